import { describe, expect, it } from '@jest/globals';
import { PayloadError, parseSlackPayload } from '../src/index.js';
import { reactionEventPayload } from '../src/testing/index.js';

const bytes = (v: unknown): Buffer =>
  Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const base = reactionEventPayload({
  eventId: 'Ev1',
  type: 'reaction_added',
  user: 'U1',
  reaction: 'thumbsup',
  eventTs: '1360782804.083113',
  item: { type: 'message', channel: 'C1', ts: '1360782400.498405' },
});

function payloadError(body: unknown): PayloadError {
  try {
    parseSlackPayload(bytes(body));
  } catch (err) {
    if (err instanceof PayloadError) return err;
    throw err;
  }
  throw new Error('expected a PayloadError');
}

function withEvent(patch: Record<string, unknown>): Record<string, unknown> {
  return { ...base, event: { ...(base.event as object), ...patch } };
}

describe('parseSlackPayload', () => {
  it('accepts skin-tone variants and names made of surrogate pairs', () => {
    for (const reaction of ['+1::skin-tone-2', 'wave::skin-tone-6', 'custom\ud83d\ude00']) {
      expect(parseSlackPayload(bytes(withEvent({ reaction })))).toMatchObject({ reaction });
    }
  });

  it('parses url_verification', () => {
    expect(
      parseSlackPayload(bytes({ type: 'url_verification', challenge: 'abc', token: 't' })),
    ).toEqual({
      kind: 'url_verification',
      challenge: 'abc',
    });
  });

  it('parses a reaction_added on a message', () => {
    expect(parseSlackPayload(bytes(base))).toEqual({
      kind: 'reaction',
      eventId: 'Ev1',
      team: 'T0REACTOM',
      user: 'U1',
      reaction: 'thumbsup',
      item: { type: 'message', channel: 'C1', ts: '1360782400.498405' },
      present: true,
      eventTs: { seconds: 1360782804, micros: 83113 },
    });
  });

  it('parses reaction_removed on a file and a file comment', () => {
    const file = parseSlackPayload(
      bytes(withEvent({ type: 'reaction_removed', item: { type: 'file', file: 'F1' } })),
    );
    expect(file).toMatchObject({
      kind: 'reaction',
      present: false,
      item: { type: 'file', file: 'F1' },
    });
    const comment = parseSlackPayload(
      bytes(withEvent({ item: { type: 'file_comment', file_comment: 'Fc1', file: 'F1' } })),
    );
    expect(comment).toMatchObject({ item: { type: 'file_comment', file_comment: 'Fc1' } });
  });

  it('ignores other event types', () => {
    expect(parseSlackPayload(bytes(withEvent({ type: 'message', text: 'hi' })))).toEqual({
      kind: 'ignored',
      eventId: 'Ev1',
      eventType: 'message',
    });
  });

  it.each([
    ['not JSON', '{"type":', 'invalid_json', undefined],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'invalid_json', undefined],
    ['an array', [], 'invalid_event', '(root)'],
    ['unknown envelope type', { type: 'app_rate_limited' }, 'invalid_event', 'type'],
    ['empty challenge', { type: 'url_verification', challenge: '' }, 'invalid_event', 'challenge'],
    ['missing team_id', { ...base, team_id: undefined }, 'invalid_event', 'team_id'],
    ['missing event', { ...base, event: undefined }, 'invalid_event', 'event'],
    ['missing user', withEvent({ user: undefined }), 'invalid_event', 'event.user'],
    ['reaction with a space', withEvent({ reaction: 'a b' }), 'invalid_event', 'event.reaction'],
    ['missing item', withEvent({ item: undefined }), 'invalid_event', 'event.item'],
    [
      'unknown item type',
      withEvent({ item: { type: 'channel', channel: 'C1' } }),
      'invalid_event',
      'event.item.type',
    ],
    [
      'message item without ts',
      withEvent({ item: { type: 'message', channel: 'C1' } }),
      'invalid_event',
      'event.item.ts',
    ],
    ['float event_ts', withEvent({ event_ts: 1360782804.08 }), 'invalid_event', 'event.event_ts'],
    ['garbage event_ts', withEvent({ event_ts: 'yesterday' }), 'invalid_event', 'event.event_ts'],
    // A skin tone alone would count toward an emoji named "" (issue 12).
    [
      'a skin tone alone',
      withEvent({ reaction: '::skin-tone-2' }),
      'invalid_event',
      'event.reaction',
    ],
    // Lone UTF-16 surrogates cannot be URI-encoded into a store key (issue 12).
    [
      'a lone surrogate in the reaction',
      withEvent({ reaction: 'x\ud800' }),
      'invalid_event',
      'event.reaction',
    ],
    [
      'a lone low surrogate in the user',
      withEvent({ user: '\udc00U' }),
      'invalid_event',
      'event.user',
    ],
    [
      'a lone surrogate in the channel',
      withEvent({ item: { type: 'message', channel: 'C\ud83d', ts: '1.1' } }),
      'invalid_event',
      'event.item.channel',
    ],
    ['a lone surrogate in team_id', { ...base, team_id: 'T\ud800' }, 'invalid_event', 'team_id'],
  ])('refuses %s', (_label, body, code, field) => {
    const err = payloadError(body);
    expect(err.code).toBe(code);
    expect(err.field).toBe(field);
    if (field !== undefined) expect(err.message.startsWith(`${field}:`)).toBe(true);
  });
});
