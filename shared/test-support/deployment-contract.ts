/**
 * The HTTP + WebSocket contract of DESIGN.md, as one Jest suite that both deployments run against
 * a running instance. It talks to the deployment only over the network (fetch and a WebSocket
 * client), so it cannot depend on how the deployment is built.
 *
 * Every test makes its own emoji, users and channel (random suffix), so tests are independent of
 * each other, of their order and of data already in the store.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MAX_CLIENT_FRAME_BYTES, MAX_SLACK_BODY_BYTES } from '../src/contract/limits.js';
import { reactionsResponseSchema, type ServerMessage } from '../src/protocol/index.js';
import {
  reactionEventPayload,
  signSlackBody,
  type ReactionEventSpec,
} from '../src/testing/slack-payloads.js';
import type { EmojiCount } from '../src/ports.js';
import { DEFAULT_WS_TIMEOUT_MS, WsTestClient, type TlsTrust } from './ws-test-client.js';

/** A running deployment, as `setup` hands it to the suite. */
export interface DeploymentUnderTest {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:3000` (a path prefix such as a stage is fine). */
  readonly httpUrl: string;
  /** The WebSocket URL, e.g. `ws://127.0.0.1:3000/ws`. */
  readonly wsUrl: string;
  /** The signing secret the deployment verifies Slack requests with. */
  readonly signingSecret: string;
  /**
   * For `https://` and `wss://` URLs served with a certificate of the test's own (nginx in front
   * of a droplet): the PEM to trust. Requests then go through `node:https` with that CA, as
   * `fetch` takes no CA of its own.
   */
  readonly tls?: TlsTrust;
  teardown(): Promise<void>;
}

export interface DeploymentContractOptions {
  /** How long to wait for a pushed WebSocket message (fan-out through SNS may take longer). */
  readonly wsTimeoutMs?: number;
  /** Time allowed for `setup` (starting databases and servers). */
  readonly setupTimeoutMs?: number;
  /**
   * Whether the deployment closes a client frame over `MAX_CLIENT_FRAME_BYTES` with 1009. The
   * droplet does; a gateway with its own frame limit may not, and sets this to false.
   */
  readonly closesOversizedFrames?: boolean;
  /**
   * How long a 200 may take to show in the counts. A 200 promises that the event is stored
   * durably in the deployment's inbox and counted shortly after (docs/api.md), so the suite reads
   * counts once `/healthz` reports the inbox empty (`inbox.pending === 0`), waiting at most this
   * long (default 15 s). A deployment without an inbox field is read at once.
   */
  readonly settleTimeoutMs?: number;
  /**
   * How old a count a read may serve once the inbox has drained (a deployment that caches reads,
   * like serverless's per-container `COUNTS_CACHE_MS`); the suite waits this long more before it
   * reads. Default 0 (the droplet's reads are updated by its own writes).
   */
  readonly readStaleMs?: number;
  /**
   * Whether the deployment sees a repeated request header as all its values. Node and API
   * Gateway (payload 2.0) join them with commas; serverless-offline keeps only the last one, so
   * a second, correct signature hides a first, wrong one there. The offline stack sets false;
   * its Lambda edge is tested with API Gateway's event shape instead (handlers-http).
   */
  readonly joinsRepeatedHeaders?: boolean;
  /**
   * Whether a body whose JSON value is falsy (`null`, `false`, `0`, `""`) reaches the function
   * as sent. serverless-offline parses a JSON body and passes none on when the value is falsy,
   * so the bytes verified are not the bytes signed (401); API Gateway and the droplet pass them
   * (docs/deploy.md). The offline stack sets false.
   */
  readonly deliversFalsyJsonBodies?: boolean;
}

interface HttpResult {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** The parsed body, or undefined when it is not JSON. */
  readonly json: unknown;
}

interface ErrorJson {
  error?: { code?: unknown; message?: unknown };
}

let sequence = 0;

/** A name no other test (or earlier run against the same store) uses. */
function uniqueId(): string {
  sequence++;
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}${sequence}`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** One test's private world: its emoji, users, message and event ids. */
class Scenario {
  readonly id = uniqueId();
  readonly emoji = `ct-${this.id}`;
  readonly channel = `C${this.id.toUpperCase()}`;
  /** The reacted-to message's ts, and the base of every event_ts in this scenario. */
  readonly baseSeconds = nowSeconds() - 60;
  private events = 0;

  user(n: number): string {
    return `U${this.id.toUpperCase()}${n}`;
  }

  /** An event_ts `offsetMicros` after the scenario's base: a larger offset is a later event. */
  ts(offsetMicros: number): string {
    return `${this.baseSeconds}.${String(offsetMicros).padStart(6, '0')}`;
  }

  eventId(): string {
    this.events++;
    return `Ev${this.id.toUpperCase()}${this.events}`;
  }

  event(
    overrides: Partial<ReactionEventSpec> & Pick<ReactionEventSpec, 'type' | 'user' | 'eventTs'>,
  ): Record<string, unknown> {
    return reactionEventPayload({
      eventId: this.eventId(),
      reaction: this.emoji,
      item: { type: 'message', channel: this.channel, ts: `${this.baseSeconds}.000001` },
      ...overrides,
    });
  }

  add(
    user: number,
    offsetMicros: number,
    overrides: Partial<ReactionEventSpec> = {},
  ): Record<string, unknown> {
    return this.event({
      type: 'reaction_added',
      user: this.user(user),
      eventTs: this.ts(offsetMicros),
      ...overrides,
    });
  }

  remove(
    user: number,
    offsetMicros: number,
    overrides: Partial<ReactionEventSpec> = {},
  ): Record<string, unknown> {
    return this.event({
      type: 'reaction_removed',
      user: this.user(user),
      eventTs: this.ts(offsetMicros),
      ...overrides,
    });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface RawAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

async function fetchText(
  target: string,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
): Promise<RawAnswer> {
  const res = await fetch(target, {
    method,
    headers,
    ...(body !== undefined ? { body: new Uint8Array(body) } : {}),
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    text: await res.text(),
  };
}

/** Reads a `node:http(s)` response into a `RawAnswer`. */
function collect(
  resolve: (answer: RawAnswer) => void,
  reject: (err: unknown) => void,
): (res: http.IncomingMessage) => void {
  return (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('error', reject);
    res.once('end', () =>
      resolve({
        status: res.statusCode ?? 0,
        contentType: res.headers['content-type'] ?? '',
        text: Buffer.concat(chunks).toString('utf8'),
      }),
    );
  };
}

/** The same request over `node:https`, trusting `ca` only. */
function httpsText(
  target: string,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  ca: string,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      target,
      {
        method,
        ca,
        headers: { ...headers, ...(body !== undefined ? { 'content-length': body.length } : {}) },
      },
      collect(resolve, reject),
    );
    req.once('error', reject);
    req.end(body);
  });
}

/**
 * A POST whose headers may repeat (an array value is sent as that many header lines), which
 * `fetch` cannot send: it joins repeated names into one line.
 */
function rawHeaderLines(
  target: string,
  headers: Record<string, string | string[]>,
  body: Buffer,
  ca: string | undefined,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const options = { method: 'POST', headers: { ...headers, 'content-length': body.length } };
    const req =
      ca === undefined
        ? http.request(target, options, collect(resolve, reject))
        : https.request(target, { ...options, ca }, collect(resolve, reject));
    req.once('error', reject);
    req.end(body);
  });
}

/**
 * Registers the contract suite. `setup` starts (or locates) the deployment once for the suite;
 * its `teardown` runs after the last test.
 */
export function describeDeploymentContract(
  name: string,
  setup: () => Promise<DeploymentUnderTest>,
  options: DeploymentContractOptions = {},
): void {
  const wsTimeoutMs = options.wsTimeoutMs ?? DEFAULT_WS_TIMEOUT_MS;

  describe(`deployment contract: ${name}`, () => {
    let deployment: DeploymentUnderTest | undefined;
    const sockets: WsTestClient[] = [];

    const target = (): DeploymentUnderTest => {
      if (deployment === undefined) throw new Error('deployment setup failed; see beforeAll');
      return deployment;
    };
    const url = (path: string): string => `${target().httpUrl.replace(/\/+$/, '')}${path}`;

    async function http(
      method: string,
      path: string,
      body?: Buffer,
      headers: Record<string, string> = {},
    ): Promise<HttpResult> {
      const ca = target().tls?.ca;
      const { status, contentType, text } =
        ca === undefined
          ? await fetchText(url(path), method, headers, body)
          : await httpsText(url(path), method, headers, body, ca);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status, contentType, text, json };
    }

    /** Posts to /slack/events exactly these bytes and headers. */
    const postRaw = (body: Buffer, headers: Record<string, string>): Promise<HttpResult> =>
      http('POST', '/slack/events', body, headers);

    /** Signs with the deployment's secret (at `timestamp`, default now) and posts. */
    const postSigned = (
      body: string | Uint8Array | Record<string, unknown>,
      extraHeaders: Record<string, string> = {},
      timestamp = nowSeconds(),
    ): Promise<HttpResult> => {
      const signed = signSlackBody(target().signingSecret, body, timestamp, extraHeaders);
      return postRaw(signed.body, signed.headers);
    };

    /**
     * Delivers like Slack: a 503 is retried, re-signed and with retry headers, until it is
     * accepted or `giveUpMs` has passed. (Slack itself retries after about 1 s, 1 min and 5 min;
     * the delays here are shorter so that a test waits seconds, not minutes.) A reaction whose
     * earlier attempt timed out stays busy until its pending lease expires, so retries must be
     * able to outlast that lease.
     */
    async function deliver(
      body: Record<string, unknown>,
      giveUpMs = 5_000,
    ): Promise<HttpResult & { attempts: number }> {
      const deadline = Date.now() + giveUpMs;
      let result = await postSigned(body);
      let attempts = 1;
      while (result.status === 503 && Date.now() < deadline) {
        await sleep(Math.min(250 * attempts, 2_000));
        result = await postSigned(body, {
          'x-slack-retry-num': String(attempts),
          'x-slack-retry-reason': 'http_error',
        });
        attempts++;
      }
      return { ...result, attempts };
    }

    async function deliverOk(body: Record<string, unknown>): Promise<void> {
      const result = await deliver(body);
      expect({ status: result.status, body: result.json }).toEqual({
        status: 200,
        body: expect.anything(),
      });
      // A 200 promises the event is stored and counted shortly after: the next step reads it.
      await settled();
    }

    /** Resolves once every acknowledged event has been counted (see `settleTimeoutMs`). */
    async function settled(): Promise<void> {
      const deadline = Date.now() + (options.settleTimeoutMs ?? 15_000);
      for (;;) {
        const res = await http('GET', '/healthz');
        const inbox = (res.json as { inbox?: { pending?: unknown } } | undefined)?.inbox;
        if (inbox === undefined || inbox.pending === 0) {
          if ((options.readStaleMs ?? 0) > 0) await sleep(options.readStaleMs ?? 0);
          return;
        }
        if (Date.now() > deadline) {
          throw new Error(`the inbox still held ${String(inbox.pending)} events after the wait`);
        }
        await sleep(25);
      }
    }

    async function reactions(): Promise<EmojiCount[]> {
      await settled();
      const res = await http('GET', '/reactions');
      expect(res.status).toBe(200);
      expect(res.contentType).toMatch(/application\/json/);
      return reactionsResponseSchema.parse(res.json).reactions;
    }

    async function countOf(emoji: string): Promise<number> {
      return (await reactions()).find((r) => r.emoji === emoji)?.count ?? 0;
    }

    function expectError(res: HttpResult, status: number, code: string): ErrorJson['error'] {
      const body = res.json as ErrorJson | undefined;
      expect({ status: res.status, code: body?.error?.code }).toEqual({ status, code });
      expect(res.contentType).toMatch(/application\/json/);
      expect(typeof body?.error?.message).toBe('string');
      return body?.error;
    }

    async function openSocket(): Promise<WsTestClient> {
      const client = await WsTestClient.connect(target().wsUrl, wsTimeoutMs, target().tls);
      sockets.push(client);
      return client;
    }

    const updatesFor = (client: WsTestClient, emoji: string): EmojiCount[] =>
      client.messages.flatMap((m: ServerMessage) =>
        m.type === 'update' ? m.reactions.filter((r) => r.emoji === emoji) : [],
      );

    beforeAll(async () => {
      deployment = await setup();
    }, options.setupTimeoutMs ?? 120_000);

    afterEach(async () => {
      const open = sockets.splice(0);
      await Promise.all(open.map((s) => s.close()));
    });

    afterAll(async () => {
      await deployment?.teardown();
    }, 60_000);

    describe('HTTP', () => {
      it('GET /healthz answers 200 while the store is up', async () => {
        const res = await http('GET', '/healthz');
        expect(res.status).toBe(200);
      });

      it('echoes the url_verification challenge', async () => {
        const challenge = `challenge-${uniqueId()}`;
        const res = await postSigned({ token: 'unused', challenge, type: 'url_verification' });
        expect(res.status).toBe(200);
        expect(res.json).toEqual({ challenge });
      });

      // Each case sends a valid add with a bad signature, checks the 401 and that nothing was
      // counted, then sends the same body correctly signed to show it would have counted.
      const badSignatures: [
        string,
        (
          secret: string,
          body: Record<string, unknown>,
        ) => { body: Buffer; headers: Record<string, string> },
      ][] = [
        [
          'missing signature headers',
          (secret, body) => {
            const signed = signSlackBody(secret, body, nowSeconds());
            return { body: signed.body, headers: { 'content-type': 'application/json' } };
          },
        ],
        [
          'a missing timestamp header',
          (secret, body) => {
            const { 'x-slack-request-timestamp': _ts, ...headers } = signSlackBody(
              secret,
              body,
              nowSeconds(),
            ).headers;
            return { body: signSlackBody(secret, body, nowSeconds()).body, headers };
          },
        ],
        [
          'a signature made with another secret',
          (_secret, body) => signSlackBody(`not-${_secret}`, body, nowSeconds()),
        ],
        [
          'a malformed signature',
          (secret, body) => {
            const signed = signSlackBody(secret, body, nowSeconds());
            return {
              body: signed.body,
              headers: { ...signed.headers, 'x-slack-signature': 'v0=not-hex' },
            };
          },
        ],
        [
          'a timestamp more than 5 minutes in the past',
          (secret, body) => signSlackBody(secret, body, nowSeconds() - 6 * 60),
        ],
        [
          'a timestamp more than 5 minutes in the future',
          (secret, body) => signSlackBody(secret, body, nowSeconds() + 6 * 60),
        ],
        [
          'a body altered after signing',
          (secret, body) => {
            const signed = signSlackBody(secret, body, nowSeconds());
            const altered = Buffer.from(
              signed.body.toString('utf8').replace('"reaction_added"', '"reaction_removed"'),
            );
            expect(altered.equals(signed.body)).toBe(false);
            return { body: altered, headers: signed.headers };
          },
        ],
      ];

      it.each(badSignatures)(
        '401 invalid_signature for %s, and nothing is counted',
        async (_name, make) => {
          const s = new Scenario();
          const body = s.add(1, 100);
          const bad = make(target().signingSecret, body);
          expectError(await postRaw(bad.body, bad.headers), 401, 'invalid_signature');
          expect(await countOf(s.emoji)).toBe(0);

          expect((await postSigned(body)).status).toBe(200);
          expect(await countOf(s.emoji)).toBe(1);
        },
      );

      (options.joinsRepeatedHeaders === false ? it.skip : it)(
        '401 invalid_signature for two X-Slack-Signature headers (a wrong one, then the right one), and nothing is counted',
        async () => {
          // One rule on both deployments: Slack sends exactly one signature, so two are refused
          // even when one of them matches (Node and API Gateway join repeated headers with a comma).
          const s = new Scenario();
          const signed = signSlackBody(target().signingSecret, s.add(1, 100), nowSeconds());
          const { 'x-slack-signature': good, ...rest } = signed.headers;
          const answer = await rawHeaderLines(
            url('/slack/events'),
            { ...rest, 'x-slack-signature': [`v0=${'0'.repeat(64)}`, good!] },
            signed.body,
            target().tls?.ca,
          );
          expect({
            status: answer.status,
            code: (JSON.parse(answer.text) as ErrorJson).error?.code,
          }).toEqual({
            status: 401,
            code: 'invalid_signature',
          });
          expect(await countOf(s.emoji)).toBe(0);
        },
      );

      it('400 invalid_json for a signed body that is not JSON', async () => {
        expectError(await postSigned('{"type": "event_callback", "event": '), 400, 'invalid_json');
      });

      it('400 invalid_event naming the field for a signed event without event.item', async () => {
        const s = new Scenario();
        const body = s.add(1, 100);
        delete (body.event as Record<string, unknown>).item;
        const error = expectError(await postSigned(body), 400, 'invalid_event');
        expect(String(error?.message)).toContain('event.item');
        expect(await countOf(s.emoji)).toBe(0);
      });

      it('413 payload_too_large for a body over the limit', async () => {
        const s = new Scenario();
        const body = { ...s.add(1, 100), padding: 'x'.repeat(MAX_SLACK_BODY_BYTES) };
        expectError(await postSigned(body), 413, 'payload_too_large');
        expect(await countOf(s.emoji)).toBe(0);
      });

      it('200 for an event type other than reactions, which is ignored', async () => {
        const s = new Scenario();
        const body = reactionEventPayload({
          eventId: s.eventId(),
          type: 'reaction_added',
          user: s.user(1),
          reaction: s.emoji,
          eventTs: s.ts(100),
          item: { type: 'message', channel: s.channel, ts: s.ts(1) },
        });
        (body.event as Record<string, unknown>).type = 'message';
        expect((await postSigned(body)).status).toBe(200);
        expect(await countOf(s.emoji)).toBe(0);
      });
    });

    describe('counting', () => {
      it('an add counts 1 and appears in GET /reactions with a version', async () => {
        const s = new Scenario();
        await deliverOk(s.add(1, 100));
        const entry = (await reactions()).find((r) => r.emoji === s.emoji);
        expect(entry).toEqual({ emoji: s.emoji, count: 1, version: expect.any(Number) });
        expect(entry?.version).toBeGreaterThanOrEqual(1);
      });

      it("Slack's retry of the same event_id (with retry headers) changes nothing", async () => {
        const s = new Scenario();
        const body = s.add(1, 100);
        await deliverOk(body);
        const retry = await postSigned(body, {
          'x-slack-retry-num': '1',
          'x-slack-retry-reason': 'http_timeout',
        });
        expect(retry.status).toBe(200);
        const again = await postSigned(body, {
          'x-slack-retry-num': '2',
          'x-slack-retry-reason': 'http_timeout',
        });
        expect(again.status).toBe(200);
        expect(await countOf(s.emoji)).toBe(1);
      });

      it('the same reaction under a new event_id (same event_ts) changes nothing', async () => {
        const s = new Scenario();
        await deliverOk(s.add(1, 100));
        await deliverOk(s.add(1, 100)); // Scenario.event gives every body a fresh event_id
        expect(await countOf(s.emoji)).toBe(1);
      });

      it('a remove brings the count to 0 and the emoji leaves GET /reactions', async () => {
        const s = new Scenario();
        await deliverOk(s.add(1, 100));
        expect(await countOf(s.emoji)).toBe(1);
        await deliverOk(s.remove(1, 200));
        const listed = await reactions();
        expect(listed.find((r) => r.emoji === s.emoji)).toBeUndefined();
        expect(listed.every((r) => r.count > 0)).toBe(true);
      });

      it('removing a reaction never added changes nothing', async () => {
        const s = new Scenario();
        await deliverOk(s.remove(1, 200));
        expect(await countOf(s.emoji)).toBe(0);
        // And the count did not go negative: a later add counts exactly 1.
        await deliverOk(s.add(2, 300));
        expect(await countOf(s.emoji)).toBe(1);
      });

      it('a removal delivered before its older add leaves the reaction removed', async () => {
        const s = new Scenario();
        await deliverOk(s.remove(1, 200));
        await deliverOk(s.add(1, 100));
        expect(await countOf(s.emoji)).toBe(0);
        // A genuinely later add still counts.
        await deliverOk(s.add(1, 300));
        expect(await countOf(s.emoji)).toBe(1);
      });

      it('skin-tone variants count toward the base emoji', async () => {
        const s = new Scenario();
        await deliverOk(s.add(1, 100, { reaction: `${s.emoji}::skin-tone-3` }));
        await deliverOk(s.add(2, 100));
        await deliverOk(s.add(3, 100, { reaction: `${s.emoji}::skin-tone-5` }));
        const listed = await reactions();
        expect(listed.find((r) => r.emoji === s.emoji)?.count).toBe(3);
        expect(listed.some((r) => r.emoji.startsWith(`${s.emoji}::`))).toBe(false);
        // Removing the toned reaction takes it back off the base count.
        await deliverOk(s.remove(1, 200, { reaction: `${s.emoji}::skin-tone-3` }));
        expect(await countOf(s.emoji)).toBe(2);
      });

      it('200 concurrent distinct adds are counted exactly', async () => {
        const s = new Scenario();
        const n = 200;
        // A deployment may shed some of the burst with 503 (that is what the status is for);
        // Slack's retries must then land each reaction exactly once. Retrying may outlast the
        // pending lease of attempts that timed out, hence the long give-up time.
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) => deliver(s.add(i, 100), 60_000)),
        );
        expect(results.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`)).toEqual(
          [],
        );
        expect(await countOf(s.emoji)).toBe(n);
        // Redelivering the whole burst changes nothing.
        const again = await Promise.all(
          Array.from({ length: 20 }, (_, i) => deliver(s.add(i, 100), 60_000)),
        );
        expect(again.every((r) => r.status === 200)).toBe(true);
        expect(await countOf(s.emoji)).toBe(n);
      }, 120_000);

      it('GET /reactions lists the highest count first', async () => {
        const [low, high, mid] = [new Scenario(), new Scenario(), new Scenario()];
        for (const [s, n] of [
          [low, 1],
          [high, 3],
          [mid, 2],
        ] as const) {
          for (let u = 0; u < n; u++) await deliverOk(s.add(u, 100));
        }
        const listed = await reactions();
        for (let i = 1; i < listed.length; i++) {
          expect(listed[i - 1]!.count).toBeGreaterThanOrEqual(listed[i]!.count);
        }
        const mine = listed.filter((r) => [low.emoji, mid.emoji, high.emoji].includes(r.emoji));
        expect(mine.map((r) => [r.emoji, r.count])).toEqual([
          [high.emoji, 3],
          [mid.emoji, 2],
          [low.emoji, 1],
        ]);
      });
    });

    describe('hostile input (issue 12)', () => {
      it('refuses an empty base emoji (::skin-tone-2) with 400 naming event.reaction, and counts nothing', async () => {
        const s = new Scenario();
        const res = await postSigned(s.add(1, 100, { reaction: '::skin-tone-2' }));
        const error = expectError(res, 400, 'invalid_event');
        expect(error?.message).toMatch(/event\.reaction/);
        expect((await reactions()).some((r) => r.emoji === '')).toBe(false);
      });

      it('refuses a lone UTF-16 surrogate in the reaction with 400 naming the field', async () => {
        const s = new Scenario();
        const res = await postSigned(s.add(1, 100, { reaction: `${s.emoji}\ud800` }));
        const error = expectError(res, 400, 'invalid_event');
        expect(error?.message).toMatch(/event\.reaction/);
        expect(await countOf(s.emoji)).toBe(0);
      });

      it('refuses a far-future event_ts with 400 naming it; the reaction keeps counting later events', async () => {
        const s = new Scenario();
        const res = await postSigned(s.add(1, 100, { eventTs: '999999999999.999999' }));
        const error = expectError(res, 400, 'invalid_event');
        expect(error?.message).toMatch(/event_ts/);
        await deliverOk(s.add(1, 200));
        expect(await countOf(s.emoji)).toBe(1);
      });

      it.each([
        'constructor',
        '__proto__',
        'toString',
        'valueOf',
        'hasOwnProperty',
        '$disconnect',
        '$connect',
      ])(
        'answers the WebSocket action %j with an error and keeps the socket open',
        async (action) => {
          const client = await openSocket();
          const reply = await client.request({ action }, 'error', wsTimeoutMs);
          expect(reply).toMatchObject({ code: 'unknown_action' });
          await client.request({ action: 'ping' }, 'pong', wsTimeoutMs);
        },
        30_000,
      );
    });

    describe('fuzz (fast-check, bounded)', () => {
      const RUNS = 20;
      const SERVER_ERROR = /^5/;

      it('never answers a signed body of any shape with a 5xx', async () => {
        const deliversFalsyJsonBodies = options.deliversFalsyJsonBodies ?? true;
        const arrivesAltered = (text: string): boolean => {
          try {
            return !(JSON.parse(text) as unknown);
          } catch {
            return false;
          }
        };
        const body = fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.uint8Array({ maxLength: 200 }),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          fc
            .record({
              reaction: fc.string({ maxLength: 40 }),
              user: fc.string({ maxLength: 20 }),
              eventTs: fc.oneof(
                fc.string({ maxLength: 20 }),
                fc.constant(`${nowSeconds()}.000001`),
              ),
              channel: fc.string({ maxLength: 20 }),
            })
            .map((r) =>
              JSON.stringify(
                reactionEventPayload({
                  eventId: `EvFuzz${uniqueId()}`,
                  type: 'reaction_added',
                  user: r.user,
                  reaction: r.reaction,
                  eventTs: r.eventTs,
                  item: { type: 'message', channel: r.channel, ts: '1700000000.000100' },
                }),
              ),
            ),
        );
        await fc.assert(
          fc.asyncProperty(body, async (b) => {
            const res = await postSigned(typeof b === 'string' ? b : Buffer.from(b));
            expect(String(res.status)).not.toMatch(SERVER_ERROR);
            // Raw bytes that are not UTF-8 still get a 401 from serverless-offline, which hands
            // the function a decoded string (issue 11 makes the edge verify the delivered bytes);
            // for them only "never a 5xx" is asserted here.
            if (typeof b === 'string' && !(arrivesAltered(b) && !deliversFalsyJsonBodies)) {
              expect([200, 400]).toContain(res.status);
            }
          }),
          { numRuns: RUNS },
        );
      }, 120_000);

      it('counts every valid reaction it answers 200 for (no silent 200), whatever its name', async () => {
        const name = fc.oneof(
          fc.stringMatching(/^[a-z0-9_+'-]{1,24}$/),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
          fc.constantFrom(
            'toString',
            'constructor',
            '__proto__',
            'hasOwnProperty',
            '%',
            '%25',
            '.',
            '..',
            '/',
          ),
        );
        const tone = fc.option(fc.integer({ min: 2, max: 6 }), { nil: undefined });
        await fc.assert(
          fc.asyncProperty(name, tone, async (base, skin) => {
            const s = new Scenario();
            const emoji = `${s.emoji}-${base}`;
            const res = await deliver(
              s.add(1, 100, { reaction: skin ? `${emoji}::skin-tone-${skin}` : emoji }),
            );
            expect(String(res.status)).not.toMatch(SERVER_ERROR);
            if (res.status === 200) expect(await countOf(emoji)).toBe(1);
            else expectError(res, 400, 'invalid_event');
          }),
          { numRuns: RUNS },
        );
      }, 180_000);

      it('answers every WebSocket frame of any shape, and the socket stays usable', async () => {
        const frame = fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          fc.record({ action: fc.string({ maxLength: 20 }) }).map((v) => JSON.stringify(v)),
          fc
            .constantFrom(
              'constructor',
              '__proto__',
              'toString',
              '$disconnect',
              '$connect',
              '$default',
              'getReactions',
              'ping',
            )
            .map((action) => JSON.stringify({ action })),
        );
        const client = await openSocket();
        await fc.assert(
          fc.asyncProperty(frame, async (text) => {
            const from = client.messages.length;
            client.send(text);
            await client.waitUntil(() => client.messages.length > from, {
              description: `an answer to ${JSON.stringify(text).slice(0, 80)}`,
              timeoutMs: wsTimeoutMs,
            });
            expect(['error', 'pong', 'snapshot', 'update']).toContain(client.messages[from]!.type);
          }),
          { numRuns: RUNS },
        );
        await client.request({ action: 'ping' }, 'pong', wsTimeoutMs);
      }, 180_000);
    });

    describe('WebSocket', () => {
      it('every client receives every update with increasing versions, down to count 0', async () => {
        const s = new Scenario();
        const clients = await Promise.all(Array.from({ length: 5 }, () => openSocket()));
        // A pong proves the server has registered the connection before the first change.
        await Promise.all(clients.map((c) => c.request({ action: 'ping' }, 'pong', wsTimeoutMs)));

        await deliverOk(s.add(1, 100));
        await deliverOk(s.add(2, 100));
        await deliverOk(s.remove(1, 200));
        await deliverOk(s.remove(2, 200));

        for (const client of clients) {
          await client.waitUntil(() => updatesFor(client, s.emoji).length >= 4, {
            description: `4 updates of ${s.emoji}`,
            timeoutMs: wsTimeoutMs,
          });
          // Ordered by version, not arrival: a fan-out may deliver out of order, and versions are
          // what a dashboard uses to drop stale updates.
          const updates = [...updatesFor(client, s.emoji)].sort((a, b) => a.version - b.version);
          expect(updates.map((u) => u.count)).toEqual([1, 2, 1, 0]);
          for (let i = 1; i < updates.length; i++) {
            expect(updates[i]!.version).toBeGreaterThan(updates[i - 1]!.version);
          }
          expect(client.invalid).toEqual([]);
        }
      }, 60_000);

      it('getReactions answers with a snapshot of the leaderboard', async () => {
        const s = new Scenario();
        await deliverOk(s.add(1, 100));
        const client = await openSocket();
        const snapshot = await client.request({ action: 'getReactions' }, 'snapshot', wsTimeoutMs);
        expect(snapshot.reactions.find((r) => r.emoji === s.emoji)).toEqual({
          emoji: s.emoji,
          count: 1,
          version: expect.any(Number),
        });
        for (let i = 1; i < snapshot.reactions.length; i++) {
          expect(snapshot.reactions[i - 1]!.count).toBeGreaterThanOrEqual(
            snapshot.reactions[i]!.count,
          );
        }
        expect(snapshot.reactions.every((r) => r.count > 0)).toBe(true);
      });

      it('ping answers pong', async () => {
        const client = await openSocket();
        expect(await client.request({ action: 'ping' }, 'pong', wsTimeoutMs)).toEqual({
          type: 'pong',
        });
      });

      it('an unknown action gets an error message and the socket stays open', async () => {
        const client = await openSocket();
        const error = await client.request({ action: 'launchRockets' }, 'error', wsTimeoutMs);
        expect(error).toEqual({
          type: 'error',
          code: 'unknown_action',
          message: expect.any(String),
        });
        expect(await client.request({ action: 'ping' }, 'pong', wsTimeoutMs)).toEqual({
          type: 'pong',
        });
        expect(client.isOpen).toBe(true);
      });

      it('a frame that is not JSON gets an error message and the socket stays open', async () => {
        const client = await openSocket();
        const error = await client.request('this is not json', 'error', wsTimeoutMs);
        expect(error).toEqual({
          type: 'error',
          code: 'invalid_message',
          message: expect.any(String),
        });
        expect(await client.request({ action: 'ping' }, 'pong', wsTimeoutMs)).toEqual({
          type: 'pong',
        });
      });

      (options.closesOversizedFrames === false ? it.skip : it)(
        `a frame over ${MAX_CLIENT_FRAME_BYTES} bytes closes the socket with 1009`,
        async () => {
          const client = await openSocket();
          client.send({ action: 'ping', padding: 'x'.repeat(16 * 1024) });
          expect((await client.waitForClose(wsTimeoutMs)).code).toBe(1009);
        },
      );
    });
  });
}
