// Faults with real parts: FerretDB stopped and started under a running droplet, and the droplet
// process itself receiving SIGTERM with clients connected and a request in flight.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WsTestClient } from '@reactometer/shared/contract-tests';
import { reactionsResponseSchema } from '@reactometer/shared';
import {
  eventually,
  reactionEventPayload,
  signSlackBody,
  sleep,
  within,
} from '@reactometer/shared/testing';
import { TEST_SIGNING_SECRET } from '@reactometer/devkit';
import {
  startDropletProcess,
  startInProcessDroplet,
  startTestDatabase,
  dropletTestSettings,
  type DropletProcess,
  type InProcessDroplet,
  type TestDatabase,
} from '@reactometer/devkit/droplet';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX_CLI = path.join(
  path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')),
  'dist',
  'cli.mjs',
);

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function addPayload(): { payload: Record<string, unknown>; emoji: string } {
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const emoji = `fault-${id}`;
  const payload = reactionEventPayload({
    eventId: `Ev${id}`,
    type: 'reaction_added',
    user: `U${id}`,
    reaction: emoji,
    eventTs: `${nowSeconds()}.000100`,
    item: { type: 'message', channel: `C${id}`, ts: '1700000000.000100' },
  });
  return { payload, emoji };
}

async function getJson(url: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json() };
}

let db: TestDatabase;

beforeAll(async () => {
  db = await startTestDatabase();
}, 60_000);

afterAll(async () => {
  await db?.cleanup();
});

describe('a droplet process started while the database is down', () => {
  let proc: DropletProcess | undefined;

  afterAll(async () => {
    await proc?.stop();
    await db.ferret.start();
  });

  it('starts, stores Slack events in its inbox, and counts them once the database answers', async () => {
    await db.ferret.stop();
    proc = await startDropletProcess({
      env: {
        MONGODB_URI: db.uri,
        MONGODB_DB: db.newDatabaseName(),
        SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
        LOG_LEVEL: 'silent',
      },
      stderr: 'ignore',
    });
    const { payload, emoji } = addPayload();
    const signed = signSlackBody(TEST_SIGNING_SECRET, payload, nowSeconds());
    const res = await fetch(`${proc.httpUrl}/slack/events`, {
      method: 'POST',
      headers: signed.headers,
      body: new Uint8Array(signed.body),
    });
    expect({ status: res.status, json: await res.json() }).toEqual({
      status: 200,
      json: { ok: true },
    });
    expect(await getJson(`${proc.httpUrl}/healthz`)).toMatchObject({
      status: 503,
      json: { inbox: { pending: 1 } },
    });
    await db.ferret.start();
    const url = `${proc.httpUrl}/reactions`;
    await eventually(
      'the event counted after FerretDB came up',
      async () =>
        reactionsResponseSchema
          .parse((await getJson(url)).json)
          .reactions.find((r) => r.emoji === emoji)?.count === 1,
      Boolean,
      { timeoutMs: 30_000 },
    );
  }, 90_000);
});

describe('database outage', () => {
  let d: InProcessDroplet | undefined;

  afterAll(async () => {
    await d?.droplet.stop();
  });

  it('stores Slack events while FerretDB is down, serves counts from memory, and counts each exactly once when it is back', async () => {
    const store = await db.openStore({
      serverSelectionTimeoutMs: 1_000,
      operationTimeoutMs: 2_000,
    });
    d = await startInProcessDroplet({
      ...dropletTestSettings(),
      store,
      inboxBackoffMs: { min: 50, max: 500 },
    });
    expect((await getJson(`${d.httpUrl}/healthz`)).status).toBe(200);
    const { payload, emoji } = addPayload();
    const post = async (
      headers: Record<string, string> = {},
    ): Promise<{ status: number; json: unknown }> => {
      // Slack signs every delivery afresh: same body, current timestamp.
      const signed = signSlackBody(TEST_SIGNING_SECRET, payload, nowSeconds(), headers);
      const res = await fetch(`${d!.httpUrl}/slack/events`, {
        method: 'POST',
        headers: signed.headers,
        body: new Uint8Array(signed.body),
      });
      return { status: res.status, json: await res.json() };
    };
    const countOf = async (): Promise<number | undefined> =>
      reactionsResponseSchema
        .parse((await getJson(`${d!.httpUrl}/reactions`)).json)
        .reactions.find((r) => r.emoji === emoji)?.count;

    await db.ferret.stop();

    // The inbox does not depend on the database: the event is stored and acknowledged at once.
    const started = Date.now();
    expect(await post()).toEqual({ status: 200, json: { ok: true } });
    expect(Date.now() - started).toBeLessThan(1_000);
    // A retry of the same event_id is a duplicate, not a second event.
    expect(await post({ 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_error' })).toEqual({
      status: 200,
      json: { ok: true },
    });

    // Health says the store is down and how far behind the inbox is.
    await eventually('the worker to notice the outage', async () => {
      const health = await getJson(`${d!.httpUrl}/healthz`);
      const inbox = (health.json as { inbox?: { lastErrorCode?: string } }).inbox;
      return health.status === 503 && inbox?.lastErrorCode === 'store_unavailable';
    });
    const health = await getJson(`${d.httpUrl}/healthz`);
    expect(health.json).toEqual({
      error: { code: 'store_unavailable', message: expect.any(String) },
      inbox: {
        pending: 1,
        oldestAgeMs: expect.any(Number),
        draining: false,
        lastErrorCode: 'store_unavailable',
      },
    });
    // The 5xx body says what to do, not where the database lives or what the driver said.
    const message = JSON.stringify(health.json);
    expect(message).not.toContain(String(db.ferret.port));
    expect(message).not.toMatch(/mongo|ECONNREFUSED|127\.0\.0\.1/i);

    // Reads cost no database round trip: they are answered from memory during the outage.
    expect((await getJson(`${d.httpUrl}/reactions`)).status).toBe(200);
    const ws = await WsTestClient.connect(d.wsUrl);
    expect(await ws.request({ action: 'getReactions' }, 'snapshot')).toMatchObject({
      type: 'snapshot',
    });

    await db.ferret.start();
    await eventually(
      'the inbox to drain after FerretDB restarted',
      async () => (await countOf()) === 1,
      Boolean,
      { timeoutMs: 30_000 },
    );
    // The dashboard got the change pushed when the worker applied it.
    await ws.waitUntil(
      () =>
        ws.messages.some(
          (m) => m.type === 'update' && m.reactions.some((r) => r.emoji === emoji && r.count === 1),
        ),
      { description: 'the update of the drained event' },
    );
    await ws.close();
    expect((await getJson(`${d.httpUrl}/healthz`)).json).toMatchObject({
      status: 'ok',
      inbox: { pending: 0, lastErrorCode: null },
    });

    // Slack's last retry, after the drain: still exactly once.
    expect(await post({ 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_error' })).toEqual({
      status: 200,
      json: { ok: true },
    });
    await d.droplet.drained();
    expect(await countOf()).toBe(1);
  }, 90_000);
});

describe('SIGTERM', () => {
  let child: ChildProcess | undefined;

  afterAll(() => {
    // Only if the test failed before the process exited on its own.
    if (child !== undefined && child.exitCode === null && child.signalCode === null)
      child.kill('SIGKILL');
  });

  it('finishes the in-flight request, closes every WebSocket with 1001 and exits 0', async () => {
    await db.ferret.start(); // no-op unless an earlier test left it stopped
    const proc = spawn(process.execPath, [TSX_CLI, MAIN], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        HOST: '127.0.0.1',
        MONGODB_URI: db.ferret.uri,
        MONGODB_DB: db.dbName,
        SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
        SHUTDOWN_GRACE_MS: '10000',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let stderr = '';
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const logs: Record<string, unknown>[] = [];
    const logWaiters: (() => void)[] = [];
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: `(not JSON) ${line}` });
      }
      for (const w of logWaiters.splice(0)) w();
    });
    const waitForLog = async (msg: string, timeoutMs: number): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs.find((l) => l.msg === msg);
        if (found) return found;
        if (Date.now() > deadline || proc.exitCode !== null) {
          throw new Error(
            `no "${msg}" log line; stdout: ${JSON.stringify(logs)}; stderr: ${stderr}`,
          );
        }
        await Promise.race([new Promise<void>((r) => logWaiters.push(r)), sleep(100)]);
      }
    };

    const listening = await waitForLog('listening', 30_000);
    expect(listening).toMatchObject({ level: 30, port: expect.any(Number) });
    const port = listening.port as number;
    const base = `http://127.0.0.1:${port}`;

    const clients = await Promise.all(
      [1, 2, 3].map(() => WsTestClient.connect(`ws://127.0.0.1:${port}/ws`)),
    );
    await Promise.all(clients.map((c) => c.request({ action: 'ping' }, 'pong')));

    // A Slack delivery whose body is still arriving when the signal comes.
    const { payload, emoji } = addPayload();
    const signed = signSlackBody(TEST_SIGNING_SECRET, payload, nowSeconds());
    const half = Math.floor(signed.body.length / 2);
    const req = http.request(`${base}/slack/events`, {
      method: 'POST',
      headers: { ...signed.headers, 'content-length': String(signed.body.length) },
    });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.once('response', (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.once('error', reject);
    });
    req.write(signed.body.subarray(0, half));
    await sleep(200); // the server has the headers and is waiting for the rest

    proc.kill('SIGTERM');
    await waitForLog('shutting down', 10_000);

    // New connections are refused from now on...
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    // ...while the request already in flight completes normally.
    req.end(signed.body.subarray(half));
    expect(await within(response, 10_000, 'the in-flight response')).toEqual({
      status: 200,
      body: '{"ok":true}',
    });

    for (const c of clients) {
      expect(await c.waitForClose(10_000)).toEqual({ code: 1001, reason: 'server shutting down' });
      // Sockets close only after in-flight work: the dashboards got its update first.
      expect(
        c.messages.some(
          (m) => m.type === 'update' && m.reactions.some((r) => r.emoji === emoji && r.count === 1),
        ),
      ).toBe(true);
    }
    const exit = await within(exited, 10_000, 'the process to exit');
    expect({ ...exit, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(logs.map((l) => l.msg)).toContain('stopped');
  }, 90_000);
});
