/**
 * The fan-out with real sockets through serverless-offline: a Slack event goes through the HTTP
 * API, the Slack handler, the local SNS and the fan-out function, which posts to each connection
 * through serverless-offline's `@connections` API. A connection that vanished without a
 * `$disconnect` gets a 410 there and is removed, and only that one; the others keep receiving.
 *
 * The stack runs with the default coalescing window and every fan-out sharded over three
 * workers (FANOUT_WORKERS=3): the coordinator delivers segment 0 and invokes `fanoutWorker` for
 * segments 1 and 2 through serverless-offline's Lambda port, as it invokes Lambda on AWS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ServerMessage } from '@reactometer/shared';
import { reactionEventPayload, signSlackBody } from '@reactometer/shared/testing';
import { WsTestClient } from '@reactometer/shared/contract-tests';
import { createDocumentClient, destroyDocumentClient } from '../src/adapters/dynamodb-client.js';
import { startOfflineStack, type OfflineStack } from '@reactometer/devkit/offline';

const SECRET = `offline-fanout-${process.pid}`;
const WS_TIMEOUT_MS = 15_000;

let stack: OfflineStack;
let db: DynamoDBDocumentClient;
const sockets: WsTestClient[] = [];
let sequence = 0;

async function connectionIds(): Promise<Set<string>> {
  const out = await db.send(
    new ScanCommand({ TableName: stack.tables.connections, ConsistentRead: true }),
  );
  return new Set((out.Items ?? []).map((i) => i.connectionId as string));
}

/** Opens a socket and returns it with the connection id API Gateway (offline) gave it. */
async function open(): Promise<{ client: WsTestClient; id: string }> {
  const before = await connectionIds();
  const client = await WsTestClient.connect(stack.wsUrl, WS_TIMEOUT_MS);
  sockets.push(client);
  await client.request({ action: 'ping' }, 'pong', WS_TIMEOUT_MS);
  const added = [...(await connectionIds())].filter((id) => !before.has(id));
  expect(added).toHaveLength(1);
  return { client, id: added[0]! };
}

/** Records a connection as `$connect` would, for an id that may not (or no longer) exist. */
async function insertRecord(id: string): Promise<void> {
  const now = Date.now();
  await db.send(
    new PutCommand({
      TableName: stack.tables.connections,
      Item: { connectionId: id, connectedAt: now, expiresAt: Math.floor(now / 1000) + 7500 },
    }),
  );
}

/** Adds one reaction of `emoji` through the HTTP API, like Slack would. */
async function react(emoji: string): Promise<void> {
  sequence++;
  const base = Math.floor(Date.now() / 1000) - 60;
  const body = reactionEventPayload({
    eventId: `EvFAN${randomBytes(4).toString('hex')}${sequence}`,
    type: 'reaction_added',
    user: `UFAN${sequence}`,
    reaction: emoji,
    eventTs: `${base}.000100`,
    item: { type: 'message', channel: 'CFANOUT', ts: `${base}.000001` },
  });
  const signed = signSlackBody(SECRET, body, Math.floor(Date.now() / 1000));
  const res = await fetch(`${stack.httpUrl}/slack/events`, {
    method: 'POST',
    headers: signed.headers,
    body: new Uint8Array(signed.body),
  });
  expect(res.status).toBe(200);
}

const updatesOf = (client: WsTestClient, emoji: string) =>
  client.messages.flatMap((m: ServerMessage) =>
    m.type === 'update' ? m.reactions.filter((r) => r.emoji === emoji) : [],
  );

async function waitForUpdate(client: WsTestClient, emoji: string, count: number): Promise<void> {
  await client.waitUntil(() => updatesOf(client, emoji).some((r) => r.count === count), {
    description: `an update of ${emoji} to ${count}`,
    timeoutMs: WS_TIMEOUT_MS,
  });
}

async function waitUntilGone(ids: readonly string[]): Promise<void> {
  const deadline = Date.now() + WS_TIMEOUT_MS;
  for (;;) {
    const current = await connectionIds();
    if (ids.every((id) => !current.has(id))) return;
    if (Date.now() > deadline)
      throw new Error(`still recorded: ${ids.filter((id) => current.has(id)).join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  stack = await startOfflineStack({
    signingSecret: SECRET,
    logLevel: 'INFO',
    env: { FANOUT_WORKERS: '3' },
  });
  db = createDocumentClient({ endpoint: stack.dynamodbEndpoint, region: stack.region });
}, 180_000);

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  if (db !== undefined) destroyDocumentClient(db);
  await stack?.stop();
}, 60_000);

describe('fan-out through serverless-offline', () => {
  it('removes connections that vanished without $disconnect on the next broadcast (410), and only those', async () => {
    const a = await open();
    const b = await open();
    const c = await open();

    // C closes; serverless-offline runs $disconnect, which forgets it ...
    await c.client.close();
    await waitUntilGone([c.id]);
    // ... then its record comes back, as if that $disconnect had been lost. And one id that
    // serverless-offline never issued at all.
    await insertRecord(c.id);
    const ghost = randomUUID();
    await insertRecord(ghost);
    expect(await connectionIds()).toEqual(new Set([a.id, b.id, c.id, ghost]));

    const emoji = `fan-${process.pid}-${++sequence}`;
    await react(emoji);
    await waitForUpdate(a.client, emoji, 1);
    await waitForUpdate(b.client, emoji, 1);
    await waitUntilGone([c.id, ghost]);
    expect(await connectionIds()).toEqual(new Set([a.id, b.id]));

    // The rest keep receiving.
    await react(emoji);
    await waitForUpdate(a.client, emoji, 2);
    await waitForUpdate(b.client, emoji, 2);
    for (const client of [a.client, b.client]) {
      expect(updatesOf(client, emoji).map((r) => r.count)).toEqual([1, 2]);
      expect(client.invalid).toEqual([]);
    }
    expect(await connectionIds()).toEqual(new Set([a.id, b.id]));
  }, 60_000);

  it('a socket dropped without a close frame is forgotten ($disconnect), the others still receive', async () => {
    const a = await open();
    const b = await open();
    b.client.socket.terminate();
    await waitUntilGone([b.id]);

    const emoji = `drop-${process.pid}-${++sequence}`;
    await react(emoji);
    await waitForUpdate(a.client, emoji, 1);
    expect(await connectionIds()).toEqual(new Set([a.id]));
  }, 60_000);

  it('delivers one update to each of 40 open sockets', async () => {
    const clients = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const client = await WsTestClient.connect(stack.wsUrl, WS_TIMEOUT_MS);
        sockets.push(client);
        await client.request({ action: 'ping' }, 'pong', WS_TIMEOUT_MS);
        return client;
      }),
    );
    const emoji = `many-${process.pid}-${++sequence}`;
    await react(emoji);
    await Promise.all(clients.map((c) => waitForUpdate(c, emoji, 1)));
    for (const c of clients) expect(updatesOf(c, emoji)).toHaveLength(1);
  }, 60_000);

  it('shards each fan-out over three workers, two of them invoked through the Lambda port, each socket reached once', async () => {
    const clients = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const client = await WsTestClient.connect(stack.wsUrl, WS_TIMEOUT_MS);
        sockets.push(client);
        await client.request({ action: 'ping' }, 'pong', WS_TIMEOUT_MS);
        return client;
      }),
    );
    const emoji = `shard-${process.pid}-${++sequence}`;
    await react(emoji);
    await Promise.all(clients.map((c) => waitForUpdate(c, emoji, 1)));
    for (const c of clients) expect(updatesOf(c, emoji)).toHaveLength(1);
    // The workers' own log lines (Powertools JSON), one per segment invoked elsewhere. A worker
    // may write its line after its posts arrived, so the output is read until both are there.
    const segmentsLogged = (): Set<number> =>
      new Set(
        [...stack.output().matchAll(/"message":"fan-out segment"[^\n]*?"index":(\d+)/g)].map((m) =>
          Number(m[1]),
        ),
      );
    const until = Date.now() + 10_000;
    while (segmentsLogged().size < 2 && Date.now() < until) await delay(100);
    const segments = segmentsLogged();
    expect([...segments].sort()).toEqual([1, 2]);
  }, 60_000);
});
