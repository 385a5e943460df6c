/**
 * The WebSocket and fan-out handlers invoked with real API Gateway WebSocket and SNS event shapes,
 * against real dynalite and a management API that answers like AWS's (410 GoneException, 429
 * LimitExceededException), which serverless-offline cannot imitate. The fan-out runs with
 * coalescing off (FANOUT_WINDOW_MS=0), each message delivered as it came, through the lean
 * sender; fanout-coalescing.integration.test.ts covers the window.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { snsEvent, wsEvent } from './support/events.js';
import type { HandlerBackend } from './support/handler-env.js';
import type { ManagementApi } from './support/aws-management-api.js';
import {
  startHandlerTestbed,
  type FanoutHandler,
  type HandlerTestbed,
  type WsHandler,
} from './support/handler-testbed.js';

const CONCURRENCY = 4;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:reactometer-test-count-changes';
let testbed: HandlerTestbed;
let backend: HandlerBackend;
let api: ManagementApi;
let ws: WsHandler;
let fanout: FanoutHandler;
let sequence = 0;

const nextId = (tag: string) => `${tag}${process.pid}x${++sequence}=`;

async function connectionItem(id: string): Promise<Record<string, unknown> | undefined> {
  const out = await backend.client.send(
    new GetCommand({
      TableName: backend.tables.connections,
      Key: { connectionId: id },
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

async function connectionIds(): Promise<string[]> {
  const out = await backend.client.send(
    new ScanCommand({ TableName: backend.tables.connections, ConsistentRead: true }),
  );
  return (out.Items ?? []).map((i) => i.connectionId as string).sort();
}

/** Connects `id` through the $connect route and opens it on the management API. */
async function connect(id: string): Promise<void> {
  expect((await ws(wsEvent({ routeKey: '$connect', connectionId: id }))).statusCode).toBe(200);
  api.open.add(id);
}

beforeAll(async () => {
  testbed = await startHandlerTestbed({
    FANOUT_CONCURRENCY: String(CONCURRENCY),
    FANOUT_BASE_BACKOFF_MS: '5',
    FANOUT_SEND_TIMEOUT_MS: '1000',
    CONNECTIONS_PAGE_SIZE: '7',
    FANOUT_WINDOW_MS: '0',
  });
  ({ backend, api, ws, fanout } = testbed);
}, 60_000);

afterAll(async () => {
  await testbed?.stop();
});

beforeEach(async () => {
  api.reset();
  for (const id of await connectionIds()) {
    await ws(wsEvent({ routeKey: '$disconnect', connectionId: id }));
  }
});

describe('WebSocket routes', () => {
  it('$connect records the connection with an expiry a little past the 2-hour limit', async () => {
    const id = nextId('conn');
    const connectedAt = Date.now() - 1500;
    const res = await ws(wsEvent({ routeKey: '$connect', connectionId: id, connectedAt }));
    expect(res.statusCode).toBe(200);
    const item = await connectionItem(id);
    expect(item).toEqual({
      connectionId: id,
      connectedAt,
      expiresAt: Math.floor(connectedAt / 1000) + 7200 + 300,
    });
    // Nothing is sent during $connect: API Gateway cannot deliver to a connection not yet open.
    expect(api.log).toEqual([]);
  });

  it('$disconnect forgets the connection', async () => {
    const id = nextId('bye');
    await connect(id);
    expect(await connectionItem(id)).toBeDefined();
    expect((await ws(wsEvent({ routeKey: '$disconnect', connectionId: id }))).statusCode).toBe(200);
    expect(await connectionItem(id)).toBeUndefined();
  });

  it('ping answers pong through the management API, also for a base64 frame', async () => {
    const id = nextId('ping');
    await connect(id);
    await ws(wsEvent({ routeKey: 'ping', connectionId: id, body: '{"action":"ping"}' }));
    await ws(
      wsEvent({ routeKey: 'ping', connectionId: id, body: '{"action":"ping"}', base64: true }),
    );
    expect(api.frames(id)).toEqual([{ type: 'pong' }, { type: 'pong' }]);
  });

  it('getReactions answers the caller with a snapshot, highest first, zeros left out', async () => {
    const id = nextId('snap');
    await connect(id);
    const [a, b, z] = [`ws-a-${sequence}`, `ws-b-${sequence}`, `ws-z-${sequence}`];
    for (const [emoji, count] of [
      [a, 2],
      [b, 5],
      [z, 0],
    ] as const) {
      await backend.client.send(
        new PutCommand({
          TableName: backend.tables.counts,
          Item: { emoji, count, version: count + 1 },
        }),
      );
    }
    await ws(
      wsEvent({ routeKey: 'getReactions', connectionId: id, body: '{"action":"getReactions"}' }),
    );
    const [snapshot] = api.frames(id) as {
      type: string;
      reactions: { emoji: string; count: number }[];
    }[];
    expect(snapshot?.type).toBe('snapshot');
    const mine = snapshot!.reactions.filter((r) => [a, b, z].includes(r.emoji));
    expect(mine).toEqual([
      { emoji: b, count: 5, version: 6 },
      { emoji: a, count: 2, version: 3 },
    ]);
  });

  it('$default answers an error message: unknown action, not JSON, oversized', async () => {
    const id = nextId('dflt');
    await connect(id);
    await ws(
      wsEvent({ routeKey: '$default', connectionId: id, body: '{"action":"launchRockets"}' }),
    );
    await ws(wsEvent({ routeKey: '$default', connectionId: id, body: 'not json' }));
    await ws(
      wsEvent({
        routeKey: 'ping',
        connectionId: id,
        body: JSON.stringify({ action: 'ping', pad: 'x'.repeat(5000) }),
      }),
    );
    expect(api.frames(id)).toEqual([
      { type: 'error', code: 'unknown_action', message: expect.any(String) },
      { type: 'error', code: 'invalid_message', message: expect.any(String) },
      { type: 'error', code: 'invalid_message', message: expect.stringContaining('4096') },
    ]);
  });

  it('a ping puts back a record that a racing fan-out removed', async () => {
    const id = nextId('heal');
    await connect(id);
    await ws(wsEvent({ routeKey: '$disconnect', connectionId: id })); // as a 410 cleanup would
    expect(await connectionItem(id)).toBeUndefined();
    await ws(wsEvent({ routeKey: 'ping', connectionId: id, body: '{"action":"ping"}' }));
    expect(await connectionItem(id)).toBeDefined();
  });

  it('a reply to a connection that is gone removes its record', async () => {
    const id = nextId('left');
    await connect(id);
    api.open.delete(id);
    await ws(
      wsEvent({ routeKey: 'getReactions', connectionId: id, body: '{"action":"getReactions"}' }),
    );
    expect(api.log).toEqual([{ id, status: 410 }]);
    expect(await connectionItem(id)).toBeUndefined();
  });
});

describe('fan-out', () => {
  const update = (emoji: string, count: number, version: number) =>
    JSON.stringify({ type: 'update', reactions: [{ emoji, count, version }] });

  it('delivers to every live connection; a 410 removes that id only; throttles are retried', async () => {
    const live = [nextId('live'), nextId('live'), nextId('live')];
    for (const id of live) await connect(id);
    const gone = nextId('gone');
    await connect(gone);
    api.open.delete(gone); // vanished without $disconnect
    const throttled = nextId('slow');
    await connect(throttled);
    api.throttle.set(throttled, 2);
    const expired = nextId('old');
    // A record past its TTL that DynamoDB has not deleted yet (dynalite never does).
    await backend.client.send(
      new PutCommand({
        TableName: backend.tables.connections,
        Item: {
          connectionId: expired,
          connectedAt: Date.now() - 3 * 3600_000,
          expiresAt: Math.floor(Date.now() / 1000) - 60,
        },
      }),
    );

    const message = update('party', 3, 9);
    const { reports } = await fanout(snsEvent(TOPIC, [message]));

    expect(reports).toHaveLength(1);
    const [report] = reports;
    expect(report).toMatchObject({
      workers: 1,
      attempted: 5,
      delivered: 4,
      gone: 1,
      failed: 0,
      throttled: 2,
    });
    for (const id of [...live, throttled]) expect(api.received.get(id)).toEqual([message]);
    expect(api.log.some((l) => l.id === expired)).toBe(false);
    expect(await connectionIds()).toEqual([...live, throttled, expired].sort());
  });

  it('one failing connection (403) never stops delivery to the others, and is kept', async () => {
    const ids = [nextId('ok'), nextId('ok'), nextId('forbid')];
    for (const id of ids) await connect(id);
    api.forbidden.add(ids[2]!);
    const { reports } = await fanout(snsEvent(TOPIC, [update('x', 1, 1)]));
    expect(reports[0]).toMatchObject({
      attempted: 3,
      delivered: 2,
      gone: 0,
      failed: 1,
      failedIds: [ids[2]],
    });
    expect(await connectionIds()).toEqual([...ids].sort());
  });

  it(`keeps at most FANOUT_CONCURRENCY (${CONCURRENCY}) posts in flight, across DynamoDB pages`, async () => {
    const ids = Array.from({ length: 20 }, () => nextId('many'));
    for (const id of ids) await connect(id);
    api.delayMs = 30;
    const { reports } = await fanout(snsEvent(TOPIC, [update('y', 2, 2)]));
    expect(reports[0]).toMatchObject({ attempted: 20, delivered: 20 });
    expect(api.maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    expect(api.maxInFlight).toBeGreaterThanOrEqual(2);
  });

  it('a repeated SNS delivery only repeats the same absolute update', async () => {
    const id = nextId('dup');
    await connect(id);
    const message = update('z', 4, 12);
    await fanout(snsEvent(TOPIC, [message]));
    await fanout(snsEvent(TOPIC, [message]));
    expect(api.received.get(id)).toEqual([message, message]);
  });

  it('skips a message that is not an update, without failing the invocation', async () => {
    const id = nextId('junk');
    await connect(id);
    const { reports } = await fanout(
      snsEvent(TOPIC, ['not json', '{"type":"pong"}', update('w', 1, 1)]),
    );
    expect(reports).toHaveLength(1);
    expect(api.frames(id)).toEqual([
      { type: 'update', reactions: [{ emoji: 'w', count: 1, version: 1 }] },
    ]);
  });
});
