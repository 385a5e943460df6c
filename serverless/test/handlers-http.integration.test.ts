/**
 * The HTTP handlers invoked with real HTTP API (payload 2.0) events against real dynalite and the
 * local SNS of serverless-offline-sns: header names in any case, base64 bodies decoded as bytes,
 * the publish to SNS, the read routes, reconcile, and 503 once the store is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ReconcileReport } from '@reactometer/shared';
import { reactionEventPayload, signSlackBody } from '@reactometer/shared/testing';
import {
  AFTER_STORE_ERRORS,
  afterStoreFailureLogFields,
  otherAfterStoreFailure,
  settleFailingStore,
  unreachablePublisher,
  type AfterStoreFailure,
} from '@reactometer/shared/contract-tests';
import { createComposition } from '../src/composition.js';
import type { createCounterHandler as CreateCounterHandler } from '../src/handlers/counter.js';
import { httpApiEvent } from './support/events.js';
import { freePort } from '@reactometer/devkit';
import {
  applyEnv,
  startHandlerBackend,
  type CounterHandler,
  type HandlerBackend,
} from './support/handler-env.js';
import { startLocalSns, type LocalSns } from './support/local-sns.js';

type Handler = (
  event: ReturnType<typeof httpApiEvent>,
) => Promise<APIGatewayProxyStructuredResultV2>;

const SECRET = 'handler-test-secret';
let backend: HandlerBackend;
let sns: LocalSns;
let published: string[];
/** The Slack handler alone: answers once the event is in the inbox queue. */
let appendOnly: Handler;
/** The Slack handler, then the counter over everything in the inbox (what SQS + Lambda do). */
let slackEvents: Handler;
let counter: CounterHandler;
let createCounterHandler: typeof CreateCounterHandler;
let reactions: Handler;
let reconcileHandler: (event?: { repair?: boolean }) => Promise<ReconcileReport>;

let sequence = 0;
const now = () => Math.floor(Date.now() / 1000);

/** A reaction_added body for a fresh emoji and event. */
function addEvent(emoji: string, user = 'U1', offsetMicros = 100): Record<string, unknown> {
  sequence++;
  const base = now() - 60;
  return reactionEventPayload({
    eventId: `EvHTTP${process.pid}${sequence}`,
    type: 'reaction_added',
    user,
    reaction: emoji,
    eventTs: `${base}.${String(offsetMicros).padStart(6, '0')}`,
    item: { type: 'message', channel: 'CHANDLERS', ts: `${base}.000001` },
  });
}

function emojiName(tag: string): string {
  sequence++;
  return `h-${tag}-${process.pid}-${sequence}`;
}

function parse(result: APIGatewayProxyStructuredResultV2): unknown {
  return JSON.parse(result.body ?? 'null');
}

async function countOf(emoji: string): Promise<number> {
  const res = await reactions(httpApiEvent({ method: 'GET', path: '/reactions' }));
  const body = parse(res) as { reactions: { emoji: string; count: number }[] };
  return body.reactions.find((r) => r.emoji === emoji)?.count ?? 0;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  backend = await startHandlerBackend();
  sns = await startLocalSns(await freePort());
  const topic = await sns.topicWithRecorder(`handlers-${process.pid}`);
  published = topic.messages;
  applyEnv({
    ...backend.env,
    SLACK_SIGNING_SECRET: SECRET,
    COUNTS_TOPIC_ARN: topic.topicArn,
    SNS_ENDPOINT: sns.endpoint,
    DYNAMODB_REQUEST_TIMEOUT_MS: '500',
  });
  ({ handler: appendOnly } = (await import('../src/handlers/slack-events.js')) as {
    handler: Handler;
  });
  ({ handler: counter, createCounterHandler } = (await import('../src/handlers/counter.js')) as {
    handler: CounterHandler;
    createCounterHandler: typeof CreateCounterHandler;
  });
  slackEvents = async (event) => {
    const res = await appendOnly(event);
    await backend.drainInbox(counter);
    return res;
  };
  ({ handler: reactions } = (await import('../src/handlers/reactions.js')) as { handler: Handler });
  ({ handler: reconcileHandler } = (await import('../src/handlers/reconcile.js')) as {
    handler: typeof reconcileHandler;
  });
}, 60_000);

afterAll(async () => {
  await sns?.stop();
  await backend?.stop();
});

describe('POST /slack/events', () => {
  it('accepts lowercase headers (as HTTP API sends them), counts and publishes the absolute count to SNS', async () => {
    const emoji = emojiName('lower');
    const signed = signSlackBody(SECRET, addEvent(emoji), now());
    const res = await slackEvents(
      httpApiEvent({
        method: 'POST',
        path: '/slack/events',
        headers: signed.headers,
        body: signed.body,
      }),
    );
    expect({ status: res.statusCode, body: parse(res) }).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect(res.headers?.['content-type']).toMatch(/application\/json/);
    expect(await countOf(emoji)).toBe(1);

    await waitFor(() => published.some((m) => m.includes(emoji)), 'the SNS message');
    const message = JSON.parse(published.find((m) => m.includes(emoji))!) as unknown;
    expect(message).toEqual({ type: 'update', reactions: [{ emoji, count: 1, version: 1 }] });
  });

  it('accepts mixed-case header names', async () => {
    const emoji = emojiName('mixed');
    const signed = signSlackBody(SECRET, addEvent(emoji), now());
    const headers = {
      'Content-Type': signed.headers['content-type']!,
      'X-Slack-Request-Timestamp': signed.headers['x-slack-request-timestamp']!,
      'X-SLACK-SIGNATURE': signed.headers['x-slack-signature']!,
    };
    const res = await slackEvents(
      httpApiEvent({ method: 'POST', path: '/slack/events', headers, body: signed.body }),
    );
    expect(res.statusCode).toBe(200);
    expect(await countOf(emoji)).toBe(1);
  });

  it('verifies a base64 body on its decoded bytes, non-ASCII characters included', async () => {
    const emoji = emojiName('b64');
    const body = { ...addEvent(emoji), note: 'naïve café ☕ 絵文字 🎉' };
    const signed = signSlackBody(SECRET, body, now());
    expect(signed.body.byteLength).toBeGreaterThan(
      Buffer.from(JSON.stringify(body), 'latin1').byteLength,
    );
    const res = await slackEvents(
      httpApiEvent({
        method: 'POST',
        path: '/slack/events',
        headers: signed.headers,
        body: signed.body,
        base64: true,
      }),
    );
    expect({ status: res.statusCode, body: parse(res) }).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect(await countOf(emoji)).toBe(1);
  });

  it('checks the signature on the exact bytes: an invalid UTF-8 byte is a 400, not a 401', async () => {
    // Correctly signed bytes that are not valid UTF-8. A handler that turned the base64 body into
    // a string and back would alter the byte (U+FFFD) and fail the signature (401) instead.
    const text = JSON.stringify({ ...addEvent(emojiName('bad-utf8')), note: '@@' });
    const bytes = Buffer.concat([
      Buffer.from(text.slice(0, text.indexOf('@@')), 'utf8'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(text.slice(text.indexOf('@@') + 2), 'utf8'),
    ]);
    const signed = signSlackBody(SECRET, bytes, now());
    const res = await slackEvents(
      httpApiEvent({
        method: 'POST',
        path: '/slack/events',
        headers: signed.headers,
        body: signed.body,
        base64: true,
      }),
    );
    expect({
      status: res.statusCode,
      code: (parse(res) as { error: { code: string } }).error.code,
    }).toEqual({
      status: 400,
      code: 'invalid_json',
    });
  });

  it('refuses two X-Slack-Signature headers as API Gateway delivers them (joined with a comma), even when one is right', async () => {
    const emoji = emojiName('twosig');
    const signed = signSlackBody(SECRET, addEvent(emoji), now());
    const good = signed.headers['x-slack-signature']!;
    const res = await slackEvents(
      httpApiEvent({
        method: 'POST',
        path: '/slack/events',
        headers: { ...signed.headers, 'x-slack-signature': `v0=${'0'.repeat(64)},${good}` },
        body: signed.body,
      }),
    );
    expect({ status: res.statusCode, body: parse(res) }).toEqual({
      status: 401,
      body: {
        error: { code: 'invalid_signature', message: 'more than one X-Slack-Signature header' },
      },
    });
    expect(await countOf(emoji)).toBe(0);
  });

  it('echoes the url_verification challenge', async () => {
    const signed = signSlackBody(
      SECRET,
      { token: 't', challenge: 'chal-123', type: 'url_verification' },
      now(),
    );
    const res = await slackEvents(
      httpApiEvent({
        method: 'POST',
        path: '/slack/events',
        headers: signed.headers,
        body: signed.body,
        base64: true,
      }),
    );
    expect({ status: res.statusCode, body: parse(res) }).toEqual({
      status: 200,
      body: { challenge: 'chal-123' },
    });
  });

  it('answers 401 for a wrong signature and counts nothing', async () => {
    const emoji = emojiName('unsigned');
    const signed = signSlackBody(`not-${SECRET}`, addEvent(emoji), now());
    const res = await slackEvents(
      httpApiEvent({
        method: 'POST',
        path: '/slack/events',
        headers: signed.headers,
        body: signed.body,
      }),
    );
    expect(res.statusCode).toBe(401);
    expect((parse(res) as { error: { code: string } }).error.code).toBe('invalid_signature');
    expect(await countOf(emoji)).toBe(0);
  });

  it('answers 401 when the body is missing altogether', async () => {
    const res = await slackEvents(httpApiEvent({ method: 'POST', path: '/slack/events' }));
    expect(res.statusCode).toBe(401);
  });

  it('answers 413 for an oversized base64 body', async () => {
    const body = { ...addEvent(emojiName('big')), padding: 'x'.repeat(70 * 1024) };
    const signed = signSlackBody(SECRET, body, now());
    const res = await slackEvents(
      httpApiEvent({
        method: 'POST',
        path: '/slack/events',
        headers: signed.headers,
        body: signed.body,
        base64: true,
      }),
    );
    expect({
      status: res.statusCode,
      code: (parse(res) as { error: { code: string } }).error.code,
    }).toEqual({
      status: 413,
      code: 'payload_too_large',
    });
  });

  it("treats Slack's retry of the same event as a no-op", async () => {
    const emoji = emojiName('retry');
    const body = addEvent(emoji);
    for (const retry of ['', '1', '2']) {
      const signed = signSlackBody(
        SECRET,
        body,
        now(),
        retry ? { 'X-Slack-Retry-Num': retry, 'X-Slack-Retry-Reason': 'http_timeout' } : {},
      );
      const res = await slackEvents(
        httpApiEvent({
          method: 'POST',
          path: '/slack/events',
          headers: signed.headers,
          body: signed.body,
        }),
      );
      expect(res.statusCode).toBe(200);
    }
    expect(await countOf(emoji)).toBe(1);
  });
});

describe('GET /reactions and GET /healthz', () => {
  it('lists counts highest first, zero counts left out, with no-store caching', async () => {
    const [a, b] = [emojiName('top'), emojiName('zero')];
    for (const user of ['U1', 'U2', 'U3']) {
      const signed = signSlackBody(SECRET, addEvent(a, user), now());
      expect(
        (
          await slackEvents(
            httpApiEvent({
              method: 'POST',
              path: '/slack/events',
              headers: signed.headers,
              body: signed.body,
            }),
          )
        ).statusCode,
      ).toBe(200);
    }
    await backend.client.send(
      new PutCommand({
        TableName: backend.tables.counts,
        Item: { emoji: b, count: 0, version: 3 },
      }),
    );
    const res = await reactions(httpApiEvent({ method: 'GET', path: '/reactions' }));
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['cache-control']).toBe('no-store');
    const listed = (
      parse(res) as { reactions: { emoji: string; count: number; version: number }[] }
    ).reactions;
    expect(listed.find((r) => r.emoji === a)).toEqual({ emoji: a, count: 3, version: 3 });
    expect(listed.some((r) => r.emoji === b)).toBe(false);
    for (let i = 1; i < listed.length; i++)
      expect(listed[i - 1]!.count).toBeGreaterThanOrEqual(listed[i]!.count);
  });

  it('GET /healthz answers 200 while the store answers', async () => {
    const res = await reactions(httpApiEvent({ method: 'GET', path: '/healthz' }));
    expect({ status: res.statusCode, body: parse(res) }).toEqual({
      status: 200,
      // How far behind the inbox is rides along (SQS does not tell the oldest message's age).
      body: {
        status: 'ok',
        inbox: {
          pending: expect.any(Number),
          oldestAgeMs: 0,
          draining: expect.any(Boolean),
          lastErrorCode: null,
        },
      },
    });
  });

  it('an unknown route is a 404 with the error envelope', async () => {
    const res = await reactions(httpApiEvent({ method: 'GET', path: '/nope' }));
    expect({
      status: res.statusCode,
      code: (parse(res) as { error: { code: string } }).error.code,
    }).toEqual({
      status: 404,
      code: 'not_found',
    });
  });
});

describe('reconcile', () => {
  it('finds a wrong count, repairs it, and a dry run changes nothing', async () => {
    const emoji = emojiName('drift');
    for (const user of ['U1', 'U2']) {
      const signed = signSlackBody(SECRET, addEvent(emoji, user), now());
      await slackEvents(
        httpApiEvent({
          method: 'POST',
          path: '/slack/events',
          headers: signed.headers,
          body: signed.body,
        }),
      );
    }
    // A crash between the two writes, simulated: the count says 7, the states say 2.
    await backend.client.send(
      new PutCommand({ TableName: backend.tables.counts, Item: { emoji, count: 7, version: 50 } }),
    );

    const dry = await reconcileHandler({ repair: false });
    expect(dry.drift.find((d) => d.emoji === emoji)).toEqual({
      emoji,
      stored: 7,
      expected: 2,
      repaired: false,
    });
    expect(await countOf(emoji)).toBe(7);

    const report = await reconcileHandler({});
    expect(report.drift.find((d) => d.emoji === emoji)).toEqual({
      emoji,
      stored: 7,
      expected: 2,
      repaired: true,
    });
    expect(await countOf(emoji)).toBe(2);
  });
});

/** A Powertools logger whose lines, exactly as it would print them, the test can read. */
class CapturingLogger extends Logger {
  readonly lines: Record<string, unknown>[] = [];

  protected override printLog(_level: number, log: LogItem): void {
    log.prepareForPrint();
    this.lines.push(
      JSON.parse(JSON.stringify(log.getAttributes(), this.getJsonReplacer())) as Record<
        string,
        unknown
      >,
    );
  }
}

// The same expectations as legacy-server/test/droplet-edge.integration.test.ts: one mapping, one log shape.
describe('a change stored but not pushed or not settled', () => {
  it.each<AfterStoreFailure>(['publishError', 'settleError'])(
    'the counter applies an event whose %s happened after the count was stored, and logs it at warn',
    async (failure) => {
      const emoji = emojiName(failure);
      const { error } = AFTER_STORE_ERRORS[failure];
      // The counter over the real store and SNS publisher, one of them failing.
      const parts = createComposition(process.env);
      const deps = parts.countingDeps();
      const logger = new CapturingLogger({ serviceName: 'handlers-test', logLevel: 'DEBUG' });
      const failing = createCounterHandler({
        deps:
          failure === 'settleError'
            ? { ...deps, store: settleFailingStore(deps.store, emoji, error) }
            : { ...deps, publisher: unreachablePublisher(error) },
        logger,
        metrics: parts.metrics(),
      });
      const body = addEvent(emoji);
      const signed = signSlackBody(SECRET, body, now());
      const { headers } = signed;
      const res = await appendOnly(
        httpApiEvent({ method: 'POST', path: '/slack/events', headers, body: signed.body }),
      );
      const failed = await backend.drainInbox(failing);
      expect([res.statusCode, parse(res), await countOf(emoji)]).toEqual([200, { ok: true }, 1]);

      const eventId = body.event_id as string;
      const line = logger.lines.find((l) => l.eventId === eventId);
      const {
        status: _status,
        bytes: _bytes,
        ...fields
      } = afterStoreFailureLogFields(failure, {
        eventId,
        emoji,
        bytes: signed.body.byteLength,
      });
      expect(line).toMatchObject({ level: 'WARN', message: 'inbox event applied', ...fields });
      expect(line).not.toHaveProperty(otherAfterStoreFailure(failure));
      // A pending marker left set keeps the message: its redelivery settles the marker.
      expect(failed).toHaveLength(failure === 'settleError' ? 1 : 0);
    },
  );
});

describe('when DynamoDB is gone', () => {
  // Last in this file: it stops the store.
  it('POST /slack/events still stores the event (200); /healthz says 503 and how much waits; the counter hands the event back', async () => {
    await backend.dynalite.stop();
    const signed = signSlackBody(SECRET, addEvent(emojiName('down')), now());
    const res = await appendOnly(
      httpApiEvent({
        method: 'POST',
        path: '/slack/events',
        headers: signed.headers,
        body: signed.body,
      }),
    );
    expect({ status: res.statusCode, body: parse(res) }).toEqual({
      status: 200,
      body: { ok: true },
    });
    const health = await reactions(httpApiEvent({ method: 'GET', path: '/healthz' }));
    expect(health.statusCode).toBe(503);
    const body = parse(health) as { error: { code: string }; inbox: { pending: number } };
    expect(body.error.code).toBe('store_unavailable');
    expect(body.inbox.pending).toBeGreaterThanOrEqual(1);
    // Reported as failed: SQS keeps it and redelivers it once DynamoDB answers again.
    expect((await backend.drainInbox(counter)).length).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
