import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  answerSlackRequest,
  decodeInboxEvent,
  encodeInboxEvent,
  InboxRecordError,
  OverloadedError,
  parseSlackPayload,
  type InboxSlackDeps,
  type ReactionEvent,
} from '../src/index.js';
import {
  InMemoryInbox,
  ManualClock,
  reactionEventPayload,
  signSlackBody,
} from '../src/testing/index.js';

const SECRET = 'inbox-secret';
const now = 1_700_000_000;

function deps(): InboxSlackDeps & { inbox: InMemoryInbox } {
  return { inbox: new InMemoryInbox(), clock: new ManualClock(now * 1000), signingSecret: SECRET };
}

function request(body: Record<string, unknown>, extra: Record<string, string> = {}) {
  const signed = signSlackBody(SECRET, body, now);
  const headers: Record<string, string> = { ...signed.headers, ...extra };
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { rawBody: signed.body, header: (name: string) => lower[name.toLowerCase()] };
}

const payload = (eventId: string) =>
  reactionEventPayload({
    eventId,
    type: 'reaction_added',
    user: 'U1',
    reaction: 'tada',
    item: { type: 'message', channel: 'C1', ts: '1.2' },
    eventTs: `${now - 1}.000100`,
  });

describe('the Slack edge with an inbox', () => {
  it('appends a valid reaction and answers 200 appended, then 200 duplicate for its retry', async () => {
    const d = deps();
    const first = await answerSlackRequest(request(payload('Ev1')), d);
    expect(first.answer).toMatchObject({
      status: 200,
      fields: { outcome: 'appended', eventId: 'Ev1' },
    });
    const retry = await answerSlackRequest(
      request(payload('Ev1'), { 'X-Slack-Retry-Num': '1' }),
      d,
    );
    expect(retry.answer).toMatchObject({ status: 200, fields: { outcome: 'duplicate' } });
    expect(d.inbox.events.map((e) => e.eventId)).toEqual(['Ev1']);
  });

  it('answers 503 overloaded with Retry-After at once when the inbox takes no more', async () => {
    const d = deps();
    d.inbox.refuseWith = new OverloadedError('inbox full', 7);
    const { answer } = await answerSlackRequest(request(payload('Ev2')), d);
    expect(answer.status).toBe(503);
    expect(answer.headers).toEqual({ 'Retry-After': '7' });
    expect(answer.body).toEqual({
      error: { code: 'overloaded', message: 'too much work in flight; retry later' },
    });
  });

  it('stores nothing for a request it refuses (bad signature)', async () => {
    const d = deps();
    const req = request(payload('Ev3'), { 'X-Slack-Signature': `v0=${'0'.repeat(64)}` });
    expect((await answerSlackRequest(req, d)).answer.status).toBe(401);
    expect(d.inbox.events).toEqual([]);
  });
});

describe('inbox event encoding', () => {
  const arbitraryEvent: fc.Arbitrary<ReactionEvent> = fc.record({
    kind: fc.constant('reaction' as const),
    eventId: fc.string({ minLength: 1 }),
    team: fc.string({ minLength: 1 }),
    user: fc.string({ minLength: 1 }),
    reaction: fc.string({ minLength: 1 }),
    item: fc.oneof(
      fc.record({
        type: fc.constant('message' as const),
        channel: fc.string({ minLength: 1 }),
        ts: fc.string({ minLength: 1 }),
      }),
      fc.record({ type: fc.constant('file' as const), file: fc.string({ minLength: 1 }) }),
      fc.record({
        type: fc.constant('file_comment' as const),
        file_comment: fc.string({ minLength: 1 }),
      }),
    ),
    present: fc.boolean(),
    eventTs: fc.record({
      seconds: fc.integer({ min: 0, max: 999_999_999_999 }),
      micros: fc.integer({ min: 0, max: 999_999 }),
    }),
  });

  it('decodes exactly what it encoded', () => {
    fc.assert(
      fc.property(arbitraryEvent, (event) => {
        expect(decodeInboxEvent(encodeInboxEvent(event))).toEqual(event);
      }),
    );
  });

  it('round-trips a parsed Slack event', () => {
    const event = parseSlackPayload(Buffer.from(JSON.stringify(payload('Ev4'))));
    expect(event.kind).toBe('reaction');
    expect(decodeInboxEvent(encodeInboxEvent(event as ReactionEvent))).toEqual(event);
  });

  it.each(['not json', '{}', '{"v":2}', JSON.stringify({ v: 1, eventId: 'x' })])(
    'refuses a damaged or foreign record: %s',
    (text) => {
      expect(() => decodeInboxEvent(text)).toThrow(InboxRecordError);
    },
  );
});
