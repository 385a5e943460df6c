import { describe, expect, it } from '@jest/globals';
import {
  handleSlackRequest,
  MAX_SLACK_BODY_BYTES,
  toHttpError,
  type SlackDeps,
} from '../src/index.js';
import {
  InMemoryReactionStore,
  ManualClock,
  RecordingPublisher,
  reactionEventPayload,
  signSlackBody,
} from '../src/testing/index.js';

const SECRET = 'test-secret';
const clock = new ManualClock(1_700_000_000_000);
const now = 1_700_000_000;

function deps(): SlackDeps & { store: InMemoryReactionStore } {
  return {
    store: new InMemoryReactionStore(),
    publisher: new RecordingPublisher(),
    clock,
    pendingLeaseMs: 10_000,
    signingSecret: SECRET,
  };
}

function request(
  body: string | Buffer | Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  const signed = signSlackBody(SECRET, body, now);
  const all: Record<string, string> = { ...signed.headers, ...headers };
  // Header names arrive in any case: the lookup is case-insensitive.
  const upper = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toUpperCase(), v]));
  return { rawBody: signed.body, header: (name: string) => upper[name.toUpperCase()] };
}

const added = reactionEventPayload({
  eventId: 'Ev1',
  type: 'reaction_added',
  user: 'U1',
  reaction: 'tada',
  eventTs: '1700000000.000001',
  item: { type: 'message', channel: 'C1', ts: '1699999999.000001' },
});

describe('handleSlackRequest', () => {
  it('answers url_verification with the challenge', async () => {
    const result = await handleSlackRequest(
      request({ type: 'url_verification', challenge: 'xyz' }),
      deps(),
    );
    expect(result).toEqual({ kind: 'challenge', challenge: 'xyz' });
  });

  it('applies a reaction event', async () => {
    const d = deps();
    const result = await handleSlackRequest(request(added), d);
    expect(result).toEqual({
      kind: 'reaction',
      eventId: 'Ev1',
      outcome: { kind: 'changed', count: { emoji: 'tada', count: 1, version: 1 } },
    });
  });

  it('checks the signature before parsing: an unsigned garbage body is 401, not 400', async () => {
    const d = deps();
    const req = { rawBody: Buffer.from('{not json'), header: () => undefined };
    const err = await handleSlackRequest(req, d).catch((e: unknown) => e);
    expect(toHttpError(err)).toEqual({
      status: 401,
      body: { error: { code: 'invalid_signature', message: 'missing X-Slack-Signature header' } },
    });
  });

  it('a tampered body is 401 and changes nothing', async () => {
    const d = deps();
    const req = request(added);
    const tampered = {
      ...req,
      rawBody: Buffer.from(req.rawBody.toString().replace('tada', 'fire')),
    };
    const err = await handleSlackRequest(tampered, d).catch((e: unknown) => e);
    expect(toHttpError(err).status).toBe(401);
    expect(d.store.counts.size).toBe(0);
  });

  it('maps malformed JSON to 400 invalid_json and an invalid event to 400 naming the field', async () => {
    const bad = await handleSlackRequest(request('{"type":'), deps()).catch((e: unknown) => e);
    expect(toHttpError(bad)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_json' } },
    });
    const missing = { ...added, event: { ...(added.event as object), item: undefined } };
    const invalid = await handleSlackRequest(request(missing), deps()).catch((e: unknown) => e);
    expect(toHttpError(invalid)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_event' } },
    });
    expect(toHttpError(invalid).body.error.message).toMatch(/^event\.item:/);
  });

  it('refuses an event_ts more than 5 minutes after the request, and counts nothing (issue 12)', async () => {
    const d = deps();
    const future = reactionEventPayload({
      eventId: 'EvFuture',
      type: 'reaction_added',
      user: 'U1',
      reaction: 'tada',
      eventTs: '999999999999.999999',
      item: { type: 'message', channel: 'C1', ts: '1699999999.000001' },
    });
    const err = await handleSlackRequest(request(future), d).catch((e: unknown) => e);
    expect(toHttpError(err)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_event' } },
    });
    expect(toHttpError(err).body.error.message).toMatch(/^event\.event_ts:/);
    expect(d.store.counts.size).toBe(0);
    // Within the skew (clocks differ a little) it is counted.
    const slightlyAhead = {
      ...future,
      event: { ...(future.event as object), event_ts: `${now + 299}.000001` },
    };
    expect(await handleSlackRequest(request(slightlyAhead), d)).toMatchObject({
      kind: 'reaction',
      outcome: { kind: 'changed' },
    });
  });

  it('refuses an oversized body with 413 before checking anything else', async () => {
    const err = await handleSlackRequest(
      { rawBody: Buffer.alloc(MAX_SLACK_BODY_BYTES + 1, 0x20), header: () => undefined },
      deps(),
    ).catch((e: unknown) => e);
    expect(toHttpError(err).status).toBe(413);
  });

  it('maps a store outage to 503 so that Slack retries, and stores nothing', async () => {
    const d = deps();
    d.store.setDown(true);
    const err = await handleSlackRequest(request(added), d).catch((e: unknown) => e);
    expect(toHttpError(err)).toMatchObject({
      status: 503,
      body: { error: { code: 'store_unavailable' } },
    });
    d.store.setDown(false);
    expect(d.store.states.size).toBe(0);
  });

  it('never leaks an unexpected error', () => {
    expect(toHttpError(new Error('password=hunter2 at db.internal'))).toEqual({
      status: 500,
      body: { error: { code: 'internal_error', message: 'internal error' } },
    });
  });
});
