// The edge mapping both deployments call: Slack outcome or error -> status, body, log level and
// log fields; and the health answer.
import { describe, expect, it } from '@jest/globals';
import {
  PayloadError,
  PayloadTooLargeError,
  ReactionBusyError,
  ReactometerError,
  SignatureError,
  StoreUnavailableError,
  answerError,
  answerHealth,
  answerSlackError,
  answerSlackRequest,
  answerSlackResult,
  checkHealth,
  errorText,
  peekEventId,
  type ReactionStore,
  type SlackDeps,
  type SlackRequest,
  type SlackResult,
} from '../src/index.js';
import {
  InMemoryReactionStore,
  ManualClock,
  RecordingPublisher,
  reactionEventPayload,
  signSlackBody,
} from '../src/testing/index.js';
import {
  AFTER_STORE_ERRORS,
  afterStoreFailureLogFields,
  settleFailingStore,
  unreachablePublisher,
  type AfterStoreFailure,
} from '../test-support/failing-parts.js';

const SECRET = 'edge-secret';
const NOW_S = 1_700_000_000;

function request(body: string, headers: Record<string, string> = {}): SlackRequest {
  return { rawBody: new TextEncoder().encode(body), header: (name) => headers[name] };
}

const count = { emoji: 'tada', count: 3, version: 7 };

describe('answerSlackResult', () => {
  const req = request('{"event_id":"Ev1"}');

  it.each<[string, SlackResult, Record<string, unknown>]>([
    ['url_verification', { kind: 'challenge', challenge: 'c' }, { outcome: 'url_verification' }],
    [
      'an ignored event type',
      { kind: 'ignored', eventId: 'Ev1', eventType: 'message' },
      { eventId: 'Ev1', outcome: 'ignored:message' },
    ],
    [
      'a stale event',
      { kind: 'reaction', eventId: 'Ev1', outcome: { kind: 'unchanged', reason: 'stale' } },
      { eventId: 'Ev1', outcome: 'unchanged:stale' },
    ],
    [
      'an event that flips nothing',
      { kind: 'reaction', eventId: 'Ev1', outcome: { kind: 'unchanged', reason: 'no_flip' } },
      { eventId: 'Ev1', outcome: 'unchanged:no_flip' },
    ],
    [
      'a change',
      { kind: 'reaction', eventId: 'Ev1', outcome: { kind: 'changed', count } },
      { eventId: 'Ev1', outcome: 'changed', emoji: 'tada', count: 3, version: 7 },
    ],
  ])('%s: 200 at info', (_name, result, fields) => {
    const answer = answerSlackResult(req, result);
    expect(answer).toEqual({
      status: 200,
      body: result.kind === 'challenge' ? { challenge: 'c' } : { ok: true },
      level: 'info',
      message: 'slack event',
      fields: { status: 200, bytes: req.rawBody.byteLength, ...fields },
    });
  });

  it.each([
    ['publishError', { publishError: new Error('SNS is down') }],
    ['settleError', { settleError: new StoreUnavailableError('timed out') }],
    [
      'both',
      {
        publishError: new Error('SNS is down'),
        settleError: new StoreUnavailableError('timed out'),
      },
    ],
  ])('a change stored with a %s: still 200, at warn, the errors as text', (_name, errors) => {
    const answer = answerSlackResult(req, {
      kind: 'reaction',
      eventId: 'Ev1',
      outcome: { kind: 'changed', count, ...errors },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ ok: true });
    expect(answer.level).toBe('warn');
    expect(answer.fields).toEqual({
      status: 200,
      bytes: req.rawBody.byteLength,
      eventId: 'Ev1',
      outcome: 'changed',
      emoji: 'tada',
      count: 3,
      version: 7,
      ...('publishError' in errors ? { publishError: 'Error: SNS is down' } : {}),
      ...('settleError' in errors ? { settleError: 'StoreUnavailableError: timed out' } : {}),
    });
  });

  it("carries Slack's retry headers when they are present", () => {
    const retried = request('{}', {
      'x-slack-retry-num': '2',
      'x-slack-retry-reason': 'http_timeout',
    });
    const answer = answerSlackResult(retried, { kind: 'challenge', challenge: 'c' });
    expect(answer.fields).toMatchObject({ slackRetryNum: '2', slackRetryReason: 'http_timeout' });
    expect(answerSlackResult(req, { kind: 'challenge', challenge: 'c' }).fields).not.toHaveProperty(
      'slackRetryNum',
    );
  });
});

describe('answerSlackError', () => {
  const req = request('{"event_id":"EvBad","type":"event_callback"}');

  it.each([
    [new SignatureError('bad signature'), 401, 'invalid_signature'],
    [new PayloadError('invalid_json', 'not JSON'), 400, 'invalid_json'],
    [new PayloadError('invalid_event', 'event.user: required', 'event.user'), 400, 'invalid_event'],
    [new PayloadTooLargeError(65536), 413, 'payload_too_large'],
  ] as const)('%p: %i at info, with the client message and no stack', (err, status, code) => {
    const answer = answerSlackError(req, err);
    expect(answer).toEqual({
      status,
      body: { error: { code, message: err.message } },
      level: 'info',
      message: 'slack event rejected',
      fields: {
        status,
        bytes: req.rawBody.byteLength,
        eventId: 'EvBad',
        errorCode: code,
        error: errorText(err),
      },
    });
  });

  it.each([
    [new StoreUnavailableError('connect ECONNREFUSED 10.0.0.5:27017'), 503, 'store_unavailable'],
    [new ReactionBusyError('T1|C1|U1|tada'), 503, 'reaction_busy'],
    [new TypeError('x is undefined'), 500, 'internal_error'],
  ] as const)(
    '%p: %i at error, the thrown value in the log and not in the body',
    (err, status, code) => {
      const answer = answerSlackError(req, err);
      expect(answer.status).toBe(status);
      expect(answer.level).toBe('error');
      expect(answer.message).toBe('slack event failed');
      expect(answer.fields).toEqual({
        status,
        bytes: req.rawBody.byteLength,
        eventId: 'EvBad',
        errorCode: code,
        error: errorText(err),
        err,
      });
      expect(JSON.stringify(answer.body)).not.toContain(err.message);
      expect(answer.body).toEqual({ error: { code, message: expect.any(String) } });
    },
  );

  it('leaves the event id out when the body has none', () => {
    expect(
      answerSlackError(request('not json'), new SignatureError('x')).fields,
    ).not.toHaveProperty('eventId');
  });
});

describe('peekEventId', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);

  it('finds a string event_id, cut to 64 characters', () => {
    expect(peekEventId(bytes('{"event_id":"Ev123"}'))).toBe('Ev123');
    expect(peekEventId(bytes(JSON.stringify({ event_id: 'E'.repeat(200) })))).toBe('E'.repeat(64));
  });

  it.each(['', 'not json', 'null', '[]', '42', '{"event_id":7}', '{"event":{}}'])(
    'is undefined for %j',
    (body) => {
      expect(peekEventId(bytes(body))).toBeUndefined();
    },
  );

  it('survives bytes that are not UTF-8', () => {
    const body = Buffer.concat([
      Buffer.from('{"event_id":"Ev9","x":"'),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    expect(peekEventId(body)).toBe('Ev9');
  });
});

describe('answerSlackRequest', () => {
  const clock = new ManualClock(NOW_S * 1000);

  function deps(store: ReactionStore = new InMemoryReactionStore()) {
    return {
      store,
      publisher: new RecordingPublisher(),
      clock,
      pendingLeaseMs: 10_000,
      signingSecret: SECRET,
    } satisfies SlackDeps;
  }

  function signedAdd(reaction: string): SlackRequest {
    const signed = signSlackBody(
      SECRET,
      reactionEventPayload({
        eventId: `Ev-${reaction}`,
        type: 'reaction_added',
        user: 'U1',
        reaction,
        eventTs: `${NOW_S}.000100`,
        item: { type: 'message', channel: 'C1', ts: `${NOW_S - 10}.000001` },
      }),
      NOW_S,
    );
    return { rawBody: signed.body, header: (name) => signed.headers[name.toLowerCase()] };
  }

  it('answers a stored change 200 at info and hands the result back', async () => {
    const { answer, result } = await answerSlackRequest(signedAdd('tada'), deps());
    expect(answer).toMatchObject({ status: 200, level: 'info', fields: { outcome: 'changed' } });
    expect(result).toMatchObject({ kind: 'reaction', outcome: { kind: 'changed' } });
  });

  // The expectation the deployments' edge tests share: the core is where it comes from.
  it.each<AfterStoreFailure>(['publishError', 'settleError'])(
    'answers a change stored with a %s 200, at warn',
    async (failure) => {
      const { error } = AFTER_STORE_ERRORS[failure];
      const store = new InMemoryReactionStore();
      const req = signedAdd('tada');
      const { answer } = await answerSlackRequest(
        req,
        failure === 'settleError'
          ? deps(settleFailingStore(store, 'tada', error))
          : { ...deps(store), publisher: unreachablePublisher(error) },
      );
      expect(answer).toEqual({
        status: 200,
        body: { ok: true },
        level: 'warn',
        message: 'slack event',
        fields: afterStoreFailureLogFields(failure, {
          eventId: 'Ev-tada',
          emoji: 'tada',
          bytes: req.rawBody.byteLength,
        }),
      });
    },
  );

  it('answers 503 at error when the store is down, with no result', async () => {
    const store = new InMemoryReactionStore();
    store.setDown(true);
    const answered = await answerSlackRequest(signedAdd('tada'), deps(store));
    expect(answered.result).toBeUndefined();
    expect(answered.answer).toMatchObject({
      status: 503,
      level: 'error',
      fields: { eventId: 'Ev-tada', errorCode: 'store_unavailable' },
    });
  });

  it('answers 401 at info for a bad signature, and never throws', async () => {
    const req = request('{"event_id":"EvX"}', { 'x-slack-signature': 'v0=00' });
    const { answer } = await answerSlackRequest(req, deps());
    expect(answer).toMatchObject({
      status: 401,
      level: 'info',
      fields: { eventId: 'EvX', errorCode: 'invalid_signature' },
    });
  });
});

describe('answerError', () => {
  it('names its line after the subject', () => {
    expect(answerError(new ReactometerError('not_found', 'no route')).message).toBe(
      'request rejected',
    );
    expect(answerError(new Error('boom'), 'reply').message).toBe('reply failed');
  });
});

describe('health', () => {
  it('answers 200 {status: "ok"} when the store answers', async () => {
    expect(await checkHealth(new InMemoryReactionStore())).toEqual({
      status: 200,
      body: { status: 'ok' },
      level: 'info',
      message: 'healthy',
      fields: { status: 200 },
    });
  });

  it('answers 503 store_unavailable when the store is down', async () => {
    const store = new InMemoryReactionStore();
    store.setDown(true);
    const answer = await checkHealth(store);
    expect(answer).toMatchObject({
      status: 503,
      body: { error: { code: 'store_unavailable', message: expect.any(String) } },
      level: 'error',
      message: 'health check failed',
      fields: { status: 503, errorCode: 'store_unavailable' },
    });
  });

  it.each([
    new Error('socket hang up'),
    'a string',
    new ReactometerError('internal_error', 'bug'),
    new ReactometerError('not_found', 'odd'),
  ])('answers 503, never 500 or 4xx, whatever ping threw (%p)', (error) => {
    const answer = answerHealth({ ok: false, error });
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({
      error: { code: 'store_unavailable', message: expect.any(String) },
    });
    // The original goes to the log as the cause of the 503.
    expect((answer.fields.err as Error).cause).toBe(error);
  });
});
