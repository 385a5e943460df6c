import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  answerClientFrame,
  parseClientMessage,
  reactionKey,
  reactionsResponseSchema,
  serverMessageSchema,
  sortCounts,
} from '../src/index.js';
import { InMemoryReactionStore } from '../src/testing/index.js';

describe('client messages', () => {
  it('answers ping with pong and getReactions with a sorted snapshot', async () => {
    const store = new InMemoryReactionStore();
    await store.setCount('a', 1, null);
    await store.setCount('b', 5, null);
    await store.setCount('zero', 0, null);
    expect(await answerClientFrame('{"action":"ping"}', store)).toEqual({ type: 'pong' });
    expect(await answerClientFrame('{"action":"getReactions"}', store)).toEqual({
      type: 'snapshot',
      reactions: [
        { emoji: 'b', count: 5, version: 1 },
        { emoji: 'a', count: 1, version: 1 },
      ],
    });
  });

  it.each([
    ['not json', 'invalid_message'],
    ['[]', 'invalid_message'],
    ['{"foo":1}', 'invalid_message'],
    ['{"action":"sendMessage"}', 'unknown_action'],
  ])('answers %j with an error message', async (frame, code) => {
    const answer = await answerClientFrame(frame, new InMemoryReactionStore());
    expect(answer).toMatchObject({ type: 'error', code });
  });

  it('reports an unavailable store as an error message, not a throw', async () => {
    const store = new InMemoryReactionStore();
    store.setDown(true);
    expect(await answerClientFrame('{"action":"getReactions"}', store)).toMatchObject({
      type: 'error',
      code: 'store_unavailable',
    });
  });

  it('never throws and always answers a valid server message, whatever the frame (property)', async () => {
    const store = new InMemoryReactionStore();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.json()), async (frame) => {
        const answer = await answerClientFrame(frame, store);
        expect(serverMessageSchema.safeParse(answer).success).toBe(true);
        expect(parseClientMessage(frame).ok).toBe(answer.type !== 'error');
      }),
    );
  });
});

describe('reactionKey', () => {
  it('never maps two different refs to the same key (property)', () => {
    const part = fc.string({
      maxLength: 6,
      unit: fc.constantFrom('a', '|', '%', ':', '.', '$', 'é'),
    });
    const ref = fc.record({ team: part, item: part, user: part, reaction: part });
    fc.assert(
      fc.property(ref, ref, (a, b) => {
        const same =
          a.team === b.team && a.item === b.item && a.user === b.user && a.reaction === b.reaction;
        expect(reactionKey(a) === reactionKey(b)).toBe(same);
      }),
    );
  });
});

describe('the leaderboard', () => {
  it('leaves out zero counts and a count of no emoji, so every snapshot passes the schema', () => {
    const board = sortCounts([
      { emoji: '', count: 4, version: 4 },
      { emoji: 'tada', count: 0, version: 2 },
      { emoji: '+1', count: 2, version: 5 },
    ]);
    expect(board).toEqual([{ emoji: '+1', count: 2, version: 5 }]);
    expect(reactionsResponseSchema.safeParse({ reactions: board }).success).toBe(true);
  });
});
