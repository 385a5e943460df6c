// Behaviour of the droplet's edge that the shared contract does not cover: the connection cap,
// slow and dead WebSocket peers, upgrade routing, HTTP details, request logs, configuration.
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  AFTER_STORE_ERRORS,
  WsTestClient,
  afterStoreFailureLogFields,
  otherAfterStoreFailure,
  settleFailingStore,
  unreachablePublisher,
  type AfterStoreFailure,
} from '@reactometer/shared/contract-tests';
import { type EmojiCount } from '@reactometer/shared';
import {
  eventually,
  reactionEventPayload,
  signSlackBody,
  sleep,
  within,
} from '@reactometer/shared/testing';
import {
  CONFIG_KEYS,
  ConfigError,
  describeConfig,
  loadConfig,
  loadStoreConfig,
  requireMongoUri,
} from '../src/config.js';
import { TEST_SIGNING_SECRET } from '@reactometer/devkit';
import { type InProcessDroplet } from '@reactometer/devkit/droplet';
import { capturingLogger } from './support/log-capture.js';
import { rawWebSocketPeer } from './support/raw-ws.js';
import { useDropletRig } from './support/droplet-rig.js';

/** pino's number for `warn`. */
const PINO_WARN = 40;

function uid(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

function signedAdd(extraHeaders: Record<string, string> = {}): {
  body: Buffer;
  headers: Record<string, string>;
  eventId: string;
  emoji: string;
} {
  const id = uid();
  const eventId = `Ev${id}`;
  const emoji = `edge-${id}`;
  const payload = reactionEventPayload({
    eventId,
    type: 'reaction_added',
    user: `U${id}`,
    reaction: emoji,
    eventTs: `${Math.floor(Date.now() / 1000)}.000100`,
    item: { type: 'message', channel: `C${id}`, ts: '1700000000.000100' },
  });
  return {
    ...signSlackBody(TEST_SIGNING_SECRET, payload, Math.floor(Date.now() / 1000), extraHeaders),
    eventId,
    emoji,
  };
}

async function post(
  d: InProcessDroplet,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${d.httpUrl}/slack/events`, {
    method: 'POST',
    headers,
    body: new Uint8Array(body),
  });
  return { status: res.status, json: await res.json() };
}

// Coalescing off unless a test sets it: these follow each update through the broadcast path.
const rig = useDropletRig({ BROADCAST_WINDOW_MS: '0' });
const { droplet, connect } = rig;

describe('WebSocket connection cap', () => {
  it('refuses the upgrade past WS_MAX_CONNECTIONS with a JSON 503 while HTTP keeps working', async () => {
    const d = await droplet({ WS_MAX_CONNECTIONS: '3' });
    const open = [await connect(d), await connect(d), await connect(d)];
    await Promise.all(open.map((c) => c.request({ action: 'ping' }, 'pong')));

    const refused = await WsTestClient.tryConnect(d.wsUrl);
    expect(refused).not.toBeInstanceOf(WsTestClient);
    if (refused instanceof WsTestClient) return;
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toEqual({
      error: { code: 'too_many_connections', message: expect.any(String) },
    });

    const add = signedAdd();
    expect(await post(d, add.body, add.headers)).toEqual({ status: 200, json: { ok: true } });
    const health = await fetch(`${d.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    // The three open clients are unaffected and got the update.
    for (const c of open) {
      await c.waitForMessage(
        (m) => m.type === 'update' && m.reactions.some((r) => r.emoji === add.emoji),
        {
          description: `the update of ${add.emoji}`,
        },
      );
    }

    // A slot frees up when a client leaves.
    await open[0]!.close();
    await eventually('the server to notice the close', () => d.droplet.broadcaster.size === 2);
    const again = await connect(d);
    expect(await again.request({ action: 'ping' }, 'pong')).toEqual({ type: 'pong' });
  });
});

describe('slow clients', () => {
  it('drops a client that stops reading once its buffer passes the cap, without holding up the others', async () => {
    const d = await droplet({ WS_MAX_BUFFERED_BYTES: String(64 * 1024) });
    const fast = await connect(d);
    await fast.request({ action: 'ping' }, 'pong');
    const slow = await rawWebSocketPeer(d.port); // completes the handshake, then never reads
    await eventually('both clients to be registered', () => d.droplet.broadcaster.size === 2);

    // ~12 KB per update, so the kernel buffers between the server and the stalled peer fill
    // after a few hundred updates; then its unsent bytes pile up in the server process.
    const marker = `slow-${uid()}`;
    // A new version each round: the broadcaster never sends an emoji's version twice.
    let version = 0;
    const big = (): EmojiCount[] => {
      version++;
      return Array.from({ length: 200 }, (_, i) => ({
        emoji: `${marker}-${i}`,
        count: i + 1,
        version,
      }));
    };
    const received = (): number =>
      fast.messages.filter((m) => m.type === 'update' && m.reactions[0]?.emoji === `${marker}-0`)
        .length;
    let rounds = 0;
    while (d.droplet.broadcaster.stats().droppedSlow === 0) {
      if (++rounds > 2_000) throw new Error('the stalled client was never dropped');
      await d.droplet.broadcaster.publish(big());
      // The healthy client gets each update while the stalled one is still connected.
      await fast.waitUntil(() => received() === 1, {
        description: `update ${rounds} on the healthy client`,
      });
      fast.messages.length = 0;
    }
    // The server's FIN queues behind the bytes the kernel already holds for the peer; once the
    // peer reads again it drains them and sees the connection closed.
    slow.socket.resume();
    await within(slow.closed, 5_000, 'the stalled peer to be disconnected');
    expect(d.droplet.broadcaster.stats()).toMatchObject({ droppedSlow: 1, openClients: 1 });

    // Publishing goes on after the drop, and the healthy client still gets it.
    await d.droplet.broadcaster.publish(big());
    await fast.waitUntil(() => received() === 1, { description: 'the update after the drop' });
    expect(fast.isOpen).toBe(true);
  }, 60_000);
});

describe('heartbeat', () => {
  it('terminates a peer that does not answer protocol pings and keeps one that does', async () => {
    const d = await droplet({ WS_HEARTBEAT_MS: '100' });
    const healthy = await connect(d); // the ws client answers pings by itself
    const dead = await rawWebSocketPeer(d.port);
    dead.socket.resume(); // reads (and ignores) the pings, never sends a pong

    const started = Date.now();
    await within(dead.closed, 5_000, 'the dead peer to be dropped');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100); // not before one full round
    expect(d.droplet.broadcaster.stats().droppedUnresponsive).toBe(1);

    await sleep(500); // five more rounds
    expect(healthy.isOpen).toBe(true);
    expect(await healthy.request({ action: 'ping' }, 'pong')).toEqual({ type: 'pong' });
  });
});

describe('upgrades and frames', () => {
  it('answers an upgrade on any path other than /ws with a JSON 404', async () => {
    const d = await droplet();
    const refused = await WsTestClient.tryConnect(`ws://127.0.0.1:${d.port}/socket`);
    expect(refused).not.toBeInstanceOf(WsTestClient);
    if (refused instanceof WsTestClient) return;
    expect(refused.status).toBe(404);
    expect(JSON.parse(refused.body)).toEqual({
      error: { code: 'not_found', message: expect.stringContaining('/ws') },
    });
  });

  it('answers a binary frame with an error message and keeps the socket open', async () => {
    const d = await droplet();
    const c = await connect(d);
    const error = await c.request(Buffer.from(JSON.stringify({ action: 'ping' })), 'error');
    expect(error).toEqual({
      type: 'error',
      code: 'invalid_message',
      message: expect.stringContaining('binary'),
    });
    expect(await c.request({ action: 'ping' }, 'pong')).toEqual({ type: 'pong' });
  });

  it('closes with 1009 just above WS_MAX_PAYLOAD_BYTES and accepts a frame at the limit', async () => {
    const d = await droplet({ WS_MAX_PAYLOAD_BYTES: '256' });
    const c = await connect(d);
    const frame = (size: number): string => {
      const base = JSON.stringify({ action: 'ping', pad: '' });
      return JSON.stringify({ action: 'ping', pad: 'x'.repeat(size - base.length) });
    };
    expect(Buffer.byteLength(frame(256))).toBe(256);
    expect(await c.request(frame(256), 'pong')).toEqual({ type: 'pong' });
    c.send(frame(257));
    expect((await c.waitForClose()).code).toBe(1009);
  });
});

describe('HTTP edge', () => {
  it('answers unknown routes and wrong methods with JSON errors', async () => {
    const d = await droplet();
    const unknown = await fetch(`${d.httpUrl}/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: { code: 'not_found', message: expect.any(String) },
    });

    const wrong = await fetch(`${d.httpUrl}/reactions`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect(await wrong.json()).toEqual({
      error: { code: 'method_not_allowed', message: expect.stringContaining('GET') },
    });

    const getEvents = await fetch(`${d.httpUrl}/slack/events`);
    expect(getEvents.status).toBe(405);
    expect(getEvents.headers.get('allow')).toBe('POST');
  });

  it('takes the Slack body as raw bytes whatever the content type', async () => {
    const d = await droplet();
    const add = signedAdd();
    const res = await post(d, add.body, {
      ...add.headers,
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res).toEqual({ status: 200, json: { ok: true } });
    const noType = signedAdd();
    const { 'content-type': _ct, ...headers } = noType.headers;
    expect(await post(d, noType.body, headers)).toEqual({ status: 200, json: { ok: true } });
  });

  it('logs each request outcome as JSON, with the event id and Slack retry headers', async () => {
    const { logger, lines } = capturingLogger();
    const d = await droplet({}, { logger });
    const add = signedAdd({ 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_timeout' });
    expect((await post(d, add.body, add.headers)).status).toBe(200);
    await fetch(`${d.httpUrl}/slack/events`, { method: 'POST', body: 'unsigned' });

    await eventually(
      'two request log lines',
      () => lines.filter((l) => l.msg === 'request').length >= 2,
    );
    const [ok, rejected] = lines.filter((l) => l.msg === 'request');
    expect(ok).toMatchObject({
      method: 'POST',
      path: '/slack/events',
      status: 200,
      eventId: add.eventId,
      slackRetryNum: '2',
      slackRetryReason: 'http_timeout',
      // Stored in the inbox; the worker counts it after the answer (its own log line).
      outcome: 'appended',
      durationMs: expect.any(Number),
    });
    expect(rejected).toMatchObject({ status: 401, errorCode: 'invalid_signature' });
  });

  // The same expectations as serverless/test/handlers-http.test.ts: one mapping, one log shape.
  it.each<AfterStoreFailure>(['publishError', 'settleError'])(
    'answers 200 to a change stored with a %s, and logs it at warn',
    async (failure) => {
      const { logger, lines } = capturingLogger();
      const add = signedAdd();
      const { error } = AFTER_STORE_ERRORS[failure];
      const d = await droplet(
        {},
        failure === 'settleError'
          ? { logger, store: settleFailingStore(rig.store, add.emoji, error) }
          : { logger },
      );
      // The broadcaster is the droplet's publisher.
      if (failure === 'publishError')
        d.droplet.broadcaster.publish = unreachablePublisher(error).publish;
      expect(await post(d, add.body, add.headers)).toEqual({ status: 200, json: { ok: true } });

      // The edge answered once the event was in the inbox; the worker applies it and logs what
      // the serverless edge logs, under its own message.
      const request = lines.find((l) => l.msg === 'request' && l.eventId === add.eventId);
      expect(request).toMatchObject({ status: 200, outcome: 'appended' });
      const line = () =>
        lines.find((l) => l.msg === 'inbox event applied' && l.eventId === add.eventId);
      await eventually('the worker line', () => line() !== undefined);
      const {
        status: _status,
        bytes: _bytes,
        ...fields
      } = afterStoreFailureLogFields(failure, {
        ...add,
        bytes: add.body.byteLength,
      });
      expect(line()).toMatchObject({ level: PINO_WARN, ...fields });
      expect(line()).not.toHaveProperty(otherAfterStoreFailure(failure));
    },
  );
});

describe('configuration', () => {
  const base = { SLACK_SIGNING_SECRET: 's3cret' };

  it('has a default for everything but the signing secret', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      mongodbUri: undefined,
      mongodbDb: 'reactometer',
      slackSigningSecret: 's3cret',
      wsMaxPayloadBytes: 4096,
      wsMaxBufferedBytes: 1024 * 1024,
      wsHeartbeatMs: 30_000,
      pendingLeaseMs: 10_000,
      shutdownGraceMs: 10_000,
      logLevel: 'info',
    });
    expect(config.wsMaxConnections).toBeGreaterThan(0);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT: must be an integer 0-65535'],
    [{ PORT: '70000' }, 'PORT: must be an integer 0-65535'],
    [{ PORT: '-1' }, 'PORT: must be an integer 0-65535'],
    [{ SLACK_SIGNING_SECRET: '' }, 'SLACK_SIGNING_SECRET: is required'],
    [{ SLACK_SIGNING_SECRET: '   ' }, 'SLACK_SIGNING_SECRET: is required'],
    [{ MONGODB_URI: 'http://db:27017' }, 'MONGODB_URI: must be a mongodb://'],
    [{ WS_MAX_CONNECTIONS: '0' }, 'WS_MAX_CONNECTIONS: must be an integer'],
    [{ WS_HEARTBEAT_MS: '1.5' }, 'WS_HEARTBEAT_MS: must be an integer'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of'],
  ])('%j fails naming the variable', (env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });

  it('reports every invalid variable at once', () => {
    try {
      loadConfig({ PORT: 'x', WS_MAX_PAYLOAD_BYTES: 'big' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.split(':')[0])).toEqual([
        'PORT',
        'SLACK_SIGNING_SECRET',
        'WS_MAX_PAYLOAD_BYTES',
      ]);
    }
  });

  it('requires MONGODB_URI only where it is needed', () => {
    expect(() => requireMongoUri(loadStoreConfig({}))).toThrow(
      /^invalid configuration: MONGODB_URI: is required/,
    );
    expect(requireMongoUri(loadStoreConfig({ MONGODB_URI: 'mongodb://127.0.0.1:27017/' }))).toBe(
      'mongodb://127.0.0.1:27017/',
    );
  });

  it('takes WS_MAX_CONNECTIONS over the cap derived from the open-file limit', () => {
    expect(loadConfig({ ...base, WS_MAX_CONNECTIONS: '42' }).wsMaxConnections).toBe(42);
  });

  it('describes every variable in one table', () => {
    const table = describeConfig();
    for (const key of Object.keys(CONFIG_KEYS)) expect(table).toContain(`| \`${key}\` `);
  });

  it('is documented in the README exactly as describeConfig() prints it', async () => {
    expect(await readFile(new URL('../README.md', import.meta.url), 'utf8')).toContain(
      describeConfig(),
    );
  });
});
