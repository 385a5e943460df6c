import { describe, expect, it } from '@jest/globals';
import { answerClientFrame, encodeInboxEvent, type ReactionEvent } from '@reactometer/shared';
import {
  InMemoryReactionStore,
  ManualClock,
  RecordingPublisher,
  parsedReactionEvent,
} from '@reactometer/shared/testing';
import { CachedCounts } from '../src/adapters/cached-counts.js';
import { applySqsBatch } from '../src/inbox/apply-sqs-batch.js';

let seq = 0;
const event = (user: string, type: 'reaction_added' | 'reaction_removed', ts: number) =>
  parsedReactionEvent({
    eventId: `EvB${++seq}`,
    type,
    user,
    reaction: 'tada',
    item: { type: 'message', channel: 'C1', ts: '1.1' },
    eventTs: `${ts}.000000`,
  });

/** The counter's deps over a fresh in-memory store. */
function counting() {
  const store = new InMemoryReactionStore();
  return {
    store,
    deps: {
      store,
      publisher: new RecordingPublisher(),
      clock: new ManualClock(),
      pendingLeaseMs: 10_000,
    },
  };
}

const record = (id: string, group: string, e: ReactionEvent) => ({
  messageId: id,
  body: encodeInboxEvent(e),
  attributes: { MessageGroupId: group, ApproximateReceiveCount: '1' },
});

describe('applying an SQS FIFO batch', () => {
  it('applies every record and reports none when the store answers', async () => {
    const { store, deps } = counting();
    const result = await applySqsBatch(
      [
        record('m1', 'a', event('U1', 'reaction_added', 100)),
        record('m2', 'b', event('U2', 'reaction_added', 100)),
      ],
      deps,
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(store.counts.get('tada')?.count).toBe(2);
  });

  it('reports a failed record and every later record of its group, but applies the other groups', async () => {
    const { store, deps } = counting();
    store.failNext('getState');
    const result = await applySqsBatch(
      [
        record('m1', 'a', event('U1', 'reaction_added', 100)),
        record('m2', 'b', event('U2', 'reaction_added', 100)),
        record('m3', 'a', event('U1', 'reaction_removed', 200)),
      ],
      deps,
    );
    // m3 is never tried: applying the removal before its add would reorder the reaction.
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }, { itemIdentifier: 'm3' }]);
    expect(store.counts.get('tada')?.count).toBe(1);
  });

  it('reports an undecodable record (it goes to the dead-letter queue after maxReceiveCount)', async () => {
    const { deps } = counting();
    const result = await applySqsBatch(
      [{ messageId: 'bad', body: '{"v":9}', attributes: { MessageGroupId: 'g' } }],
      deps,
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
  });
});

describe('the per-container counts cache', () => {
  it('reads the store at most once per ttl, sharing one read among concurrent callers', async () => {
    const clock = new ManualClock(0);
    let reads = 0;
    const store = {
      listCounts: async () => {
        reads++;
        return [{ emoji: 'tada', count: reads, version: reads }];
      },
    };
    const cache = new CachedCounts(store, 1000, clock);
    const first = await Promise.all(Array.from({ length: 100 }, () => cache.listCounts()));
    expect(reads).toBe(1);
    expect(first.every((c) => c[0]?.count === 1)).toBe(true);
    clock.advance(999);
    await cache.listCounts();
    expect(reads).toBe(1);
    clock.advance(1);
    expect((await cache.listCounts())[0]?.count).toBe(2);
  });

  it('ages a copy from the start of its read, and says how stale its snapshots may be', async () => {
    const clock = new ManualClock(0);
    let reads = 0;
    const store = {
      listCounts: async () => {
        reads++;
        clock.advance(300); // a slow Scan: changes during it may be missing from the copy
        return [{ emoji: 'tada', count: reads, version: reads }];
      },
    };
    const cache = new CachedCounts(store, 1000, clock);
    await cache.listCounts();
    clock.advance(700); // 1,000 ms after the read began
    expect((await cache.listCounts())[0]?.count).toBe(2);
    expect(await answerClientFrame('{"action":"getReactions"}', cache)).toEqual({
      type: 'snapshot',
      reactions: [{ emoji: 'tada', count: 2, version: 2 }],
      refreshAfterMs: 1000,
    });
  });
});
