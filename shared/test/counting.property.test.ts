/**
 * Property-based tests of the counting model: whatever Slack does with delivery (duplicates,
 * retries, any order, concurrency, failures), the counts end equal to those of the true final
 * states and are never negative.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  applyReactionEvent,
  formatEventTs,
  reconcile,
  type CountingDeps,
  type ReactionEvent,
} from '../src/index.js';
import { InMemoryReactionStore, ManualClock, RecordingPublisher } from '../src/testing/index.js';
import { reactionEvent } from './helpers.js';

const USERS = ['U1', 'U2', 'U3'];
const MESSAGES = ['1700000000.000100', '1700000000.000200'];
const REACTIONS = ['+1', '+1::skin-tone-2', '+1::skin-tone-5', 'tada', 'heart'];

/** One true history: distinct timestamps, each a random add/remove of a random reaction. */
const historyArb = fc
  .array(
    fc.record({
      user: fc.constantFrom(...USERS),
      messageTs: fc.constantFrom(...MESSAGES),
      reaction: fc.constantFrom(...REACTIONS),
      present: fc.boolean(),
      // Micros close together so that ordering by micros (not floats) matters.
      micros: fc.integer({ min: 0, max: 999_999 }),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((ops) => {
    const seen = new Set<number>();
    return ops
      .filter((op) => !seen.has(op.micros) && seen.add(op.micros))
      .map((op, i) =>
        reactionEvent({
          ...op,
          eventId: `Ev${i}`,
          ts: `1700000123.${String(op.micros).padStart(6, '0')}`,
        }),
      );
  });

/** Deliveries: every event 1-3 times (duplicates and retries), in a random order. */
const deliveriesArb = historyArb.chain((events) =>
  fc
    .tuple(
      ...events.map((e) =>
        fc.integer({ min: 1, max: 3 }).map((n) => Array<ReactionEvent>(n).fill(e)),
      ),
    )
    .map((groups) => groups.flat())
    .chain((all) => fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }))
    .map((deliveries) => ({ events, deliveries })),
);

/** The counts implied by the true final state of each reaction (latest event_ts wins). */
function expectedCounts(events: readonly ReactionEvent[]): Map<string, number> {
  const last = new Map<string, ReactionEvent>();
  for (const e of events) {
    const key = `${e.user}|${e.item.type === 'message' ? e.item.ts : ''}|${e.reaction}`;
    const prev = last.get(key);
    if (!prev || formatEventTs(e.eventTs) > formatEventTs(prev.eventTs)) last.set(key, e);
  }
  const counts = new Map<string, number>();
  for (const e of last.values()) {
    // Independent of the code under test: the base emoji is the name before any "::".
    const base = e.reaction.split('::')[0] as string;
    if (e.present) counts.set(base, (counts.get(base) ?? 0) + 1);
  }
  return counts;
}

function storedCounts(store: InMemoryReactionStore): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of store.counts.values()) if (c.count > 0) out.set(c.emoji, c.count);
  return out;
}

/** A store that records any -1 that hit the zero floor: in a consistent model that never happens. */
function flooringStore(options: ConstructorParameters<typeof InMemoryReactionStore>[0] = {}) {
  const store = new InMemoryReactionStore(options);
  const adjust = store.adjustCount.bind(store);
  const floorHits: string[] = [];
  store.adjustCount = async (emoji, delta) => {
    const before = store.counts.get(emoji)?.count ?? 0;
    const after = await adjust(emoji, delta);
    if (delta === -1 && before === 0) floorHits.push(emoji);
    return after;
  };
  return { store, floorHits };
}

function depsFor(
  store: InMemoryReactionStore,
  clock = new ManualClock(),
): CountingDeps & { publisher: RecordingPublisher } {
  return { store, publisher: new RecordingPublisher(), clock, pendingLeaseMs: 10_000 };
}

describe('counting model (properties)', () => {
  it('sequential delivery with duplicates and shuffling gives the true counts, never negative', async () => {
    await fc.assert(
      fc.asyncProperty(deliveriesArb, async ({ events, deliveries }) => {
        const { store, floorHits } = flooringStore();
        const deps = depsFor(store);
        for (const d of deliveries) {
          await applyReactionEvent(d, deps);
          for (const c of store.counts.values()) expect(c.count).toBeGreaterThanOrEqual(0);
        }
        expect(storedCounts(store)).toEqual(expectedCounts(events));
        expect(floorHits).toEqual([]);
        // Published versions strictly grow per emoji, and the last published count is the stored one.
        const lastVersion = new Map<string, number>();
        for (const c of deps.publisher.published.flat()) {
          expect(c.version).toBeGreaterThan(lastVersion.get(c.emoji) ?? 0);
          lastVersion.set(c.emoji, c.version);
        }
        for (const [emoji, c] of deps.publisher.latest())
          expect(store.counts.get(emoji)).toEqual(c);
      }),
      { numRuns: 300 },
    );
  });

  it('concurrent delivery under any interleaving gives the same counts (busy answers are retried)', async () => {
    await fc.assert(
      fc.asyncProperty(deliveriesArb, fc.scheduler(), async ({ events, deliveries }, s) => {
        const { store, floorHits } = flooringStore({
          beforeOperation: () => s.schedule(Promise.resolve()),
        });
        const deps = depsFor(store);
        const results = deliveries.map((d) =>
          applyReactionEvent(d, deps).then(
            () => null,
            (err: unknown) => ({ d, err }),
          ),
        );
        const settled = await s.waitFor(Promise.all(results));
        // Slack retries what got a 503 (ReactionBusyError / StoreConflictError), later and one by one.
        const retries = settled.filter((r) => r !== null);
        for (const r of retries)
          expect((r.err as { code?: string }).code).toMatch(/^(reaction_busy|store_conflict)$/);
        for (const r of retries) {
          const p = applyReactionEvent(r.d, deps);
          await s.waitFor(p);
        }
        expect(storedCounts(store)).toEqual(expectedCounts(events));
        expect(floorHits).toEqual([]);
        for (const state of store.states.values()) expect(state.pending).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it('with random store failures (before or after a write lands), Slack-style retries alone end at the true counts', async () => {
    await fc.assert(
      fc.asyncProperty(
        deliveriesArb,
        fc.array(
          fc.constantFrom('getState', 'putState', 'adjustCount') as fc.Arbitrary<
            'getState' | 'putState' | 'adjustCount'
          >,
          { maxLength: 6 },
        ),
        async ({ events, deliveries }, failures) => {
          const store = new InMemoryReactionStore();
          const clock = new ManualClock();
          const deps = depsFor(store, clock);
          for (const f of failures) store.failNext(f);
          // Slack's behaviour: a delivery answered with an error is retried until it succeeds,
          // at least a minute later (past the pending lease).
          let queue = deliveries;
          for (let round = 0; queue.length > 0 && round < 10; round++) {
            const failed: ReactionEvent[] = [];
            for (const d of queue) {
              try {
                await applyReactionEvent(d, deps);
              } catch {
                failed.push(d);
              }
            }
            queue = failed;
            clock.advance(60_000);
          }
          expect(queue).toEqual([]);
          for (const c of store.counts.values()) expect(c.count).toBeGreaterThanOrEqual(0);
          // Exact without reconcile, except for markers left by a failed final clear (answered 200,
          // so no retry touches them): those hold no drift, and reconcile only clears them.
          expect(storedCounts(store)).toEqual(expectedCounts(events));
          const report = await reconcile(store, { clock, pendingLeaseMs: 10_000, repair: true });
          expect(report.drift).toEqual([]);
          expect(storedCounts(store)).toEqual(expectedCounts(events));
        },
      ),
      { numRuns: 300 },
    );
  });
});
