/**
 * Coalescing on real dynalite: the DynamoDB fan-out gate's single-item operations, and the fan-out
 * handler with a window, invoked with SNS events as the topic sends them, posting through the lean
 * sender to a management API that answers like AWS's.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DeleteCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { LeaseLostError } from '@reactometer/shared';
import { DynamoFanOutGate } from '../src/adapters/dynamodb-fanout-gate.js';
import { DynamoCountsReader } from '../src/adapters/dynamodb-counts-reader.js';
import { snsEvent, wsEvent } from './support/events.js';
import type { HandlerBackend } from './support/handler-env.js';
import type { ManagementApi } from './support/aws-management-api.js';
import {
  startHandlerTestbed,
  type FanoutHandler,
  type HandlerTestbed,
  type WsHandler,
} from './support/handler-testbed.js';

const WINDOW_MS = 400;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:reactometer-test-count-changes';
let testbed: HandlerTestbed;
let backend: HandlerBackend;
let api: ManagementApi;
let fanout: FanoutHandler;
let ws: WsHandler;
let sequence = 0;

/** Commits a count as the Slack handler would, and returns the SNS message it would publish. */
async function commit(emoji: string, count: number, version: number): Promise<string> {
  await backend.client.send(
    new PutCommand({ TableName: backend.tables.counts, Item: { emoji, count, version } }),
  );
  return JSON.stringify({ type: 'update', reactions: [{ emoji, count, version }] });
}

async function waitForFreeGate(): Promise<void> {
  // Let any previous test's window pass, so that each test starts on a leading edge.
  await new Promise((r) => setTimeout(r, WINDOW_MS + 50));
}

beforeAll(async () => {
  testbed = await startHandlerTestbed({
    FANOUT_WINDOW_MS: String(WINDOW_MS),
    FANOUT_SEND_TIMEOUT_MS: '1000',
  });
  ({ backend, api, fanout, ws } = testbed);
}, 60_000);

afterAll(async () => {
  await testbed?.stop();
});

beforeEach(async () => {
  api.reset();
  const out = await backend.client.send(
    new ScanCommand({ TableName: backend.tables.connections, ConsistentRead: true }),
  );
  for (const item of out.Items ?? [])
    await backend.client.send(
      new DeleteCommand({
        TableName: backend.tables.connections,
        Key: { connectionId: item.connectionId },
      }),
    );
});

async function connect(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => `co${process.pid}x${++sequence}=`);
  for (const id of ids) {
    expect((await ws(wsEvent({ routeKey: '$connect', connectionId: id }))).statusCode).toBe(200);
    api.open.add(id);
  }
  return ids;
}

describe('DynamoFanOutGate on dynalite', () => {
  let gate: DynamoFanOutGate;
  beforeEach(() => {
    gate = new DynamoFanOutGate({
      client: backend.client,
      table: backend.tables.fanout,
      shard: `test-${++sequence}`,
    });
  });

  it('grants the lease to one holder at a time, and again once it has expired', async () => {
    expect(await gate.tryAcquire('a', 1_000, 500)).toEqual({ nextFlushAt: 0, connections: null });
    expect(await gate.tryAcquire('b', 1_200, 500)).toBeNull();
    // a's lease ran out at 1,500 (a crashed holder): b takes over, and a has lost it.
    expect(await gate.tryAcquire('b', 1_501, 500)).not.toBeNull();
    await expect(gate.takeDirty('a', 1_600, 500)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(gate.renew('a', 1_600, 500)).rejects.toBeInstanceOf(LeaseLostError);
    // A lost holder's release changes nothing.
    await gate.release('a', { nextFlushAt: 9, connections: 9 });
    expect(await gate.tryAcquire('c', 1_700, 500)).toBeNull();
  });

  it('takes the dirty set and empties it in one write; a mark after the take stays for the next', async () => {
    await gate.markDirty(['tada', '+1']);
    await gate.markDirty(['tada', 'eyes']);
    expect(await gate.isDirty()).toBe(true);
    expect(await gate.tryAcquire('h', 1_000, 10_000)).not.toBeNull();
    expect((await gate.takeDirty('h', 1_000, 10_000)).sort()).toEqual(['+1', 'eyes', 'tada']);
    expect(await gate.isDirty()).toBe(false);
    expect(await gate.takeDirty('h', 1_000, 10_000)).toEqual([]);
    // The release race: marked while h still holds; h releases, looks again, finds it.
    await gate.markDirty(['rocket']);
    expect(await gate.tryAcquire('writer', 1_100, 10_000)).toBeNull();
    await gate.release('h', { nextFlushAt: 2_000, connections: 42 });
    expect(await gate.isDirty()).toBe(true);
    expect(await gate.tryAcquire('h', 1_200, 10_000)).toEqual({
      nextFlushAt: 2_000,
      connections: 42,
    });
    expect(await gate.takeDirty('h', 1_200, 10_000)).toEqual(['rocket']);
  });

  it('reads counts strongly consistent, in batches, leaving unknown emoji out', async () => {
    const reader = new DynamoCountsReader({ client: backend.client, table: backend.tables.counts });
    const emojis = Array.from({ length: 130 }, (_, i) => `batch-${sequence}-${i}`);
    for (const [i, emoji] of emojis.entries()) await commit(emoji, i, i + 1);
    const got = await reader.getCounts([...emojis, 'never-counted', emojis[0]!]);
    expect(got).toHaveLength(130);
    expect(got.find((c) => c.emoji === emojis[129])).toEqual({
      emoji: emojis[129],
      count: 129,
      version: 130,
    });
  });
});

describe('fan-out handler with a coalescing window', () => {
  it('sends an isolated change at once, with the count read from the store', async () => {
    await waitForFreeGate();
    const ids = await connect(3);
    const emoji = `iso-${++sequence}`;
    const message = await commit(emoji, 1, 1);
    const started = Date.now();
    const result = await fanout(snsEvent(TOPIC, [message]));
    expect(result.coalesce).toEqual({ held: true, flushes: 1, handedOff: false, leaseLost: false });
    expect(Date.now() - started).toBeLessThan(WINDOW_MS);
    for (const id of ids) expect(api.received.get(id)).toEqual([message]);
  });

  it('merges changes that arrive during a flush and its window into one trailing update with the latest counts', async () => {
    await waitForFreeGate();
    const ids = await connect(4);
    api.delayMs = 60; // a flush that takes a while, so that changes land during it
    const [a, b] = [`mrg-a-${++sequence}`, `mrg-b-${sequence}`];
    const first = fanout(snsEvent(TOPIC, [await commit(a, 1, 1)]));
    await new Promise((r) => setTimeout(r, 20));
    // Three more changes while the first flush is under way: each finds the gate held and leaves.
    const later = await Promise.all([
      fanout(snsEvent(TOPIC, [await commit(a, 2, 2)])),
      fanout(snsEvent(TOPIC, [await commit(b, 1, 1)])),
      fanout(snsEvent(TOPIC, [await commit(a, 3, 3)])),
    ]);
    const results = [await first, ...later];
    expect(results.filter((r) => r.coalesce?.held).length).toBeGreaterThanOrEqual(1);
    expect(results.reduce((n, r) => n + (r.coalesce?.flushes ?? 0), 0)).toBe(2);
    for (const id of ids) {
      const frames = api.frames(id) as { reactions: { emoji: string; count: number }[] }[];
      expect(frames).toHaveLength(2);
      // The leading edge: `a` alone, with whatever count the store held when that flush read it
      // (on a busy machine a later change may already have landed); never ahead of the trailing one.
      const [leading] = frames[0]!.reactions;
      expect(frames[0]!.reactions).toHaveLength(1);
      expect(leading).toMatchObject({ emoji: a });
      expect(leading!.count).toBeGreaterThanOrEqual(1);
      expect(leading!.count).toBeLessThanOrEqual(3);
      expect([...frames[1]!.reactions].sort((x, y) => x.emoji.localeCompare(y.emoji))).toEqual(
        [
          { emoji: a, count: 3, version: 3 },
          { emoji: b, count: 1, version: 1 },
        ].sort((x, y) => x.emoji.localeCompare(y.emoji)),
      );
    }
  }, 30_000);
});
