import { describe, expect, it } from '@jest/globals';
import {
  applyReactionEvent,
  reconcile,
  StoreUnavailableError,
  type ReactionState,
} from '../src/index.js';
import { InMemoryReactionStore, ManualClock, RecordingPublisher } from '../src/testing/index.js';
import { reactionEvent } from './helpers.js';

async function seeded() {
  const store = new InMemoryReactionStore();
  const clock = new ManualClock();
  const deps = { store, publisher: new RecordingPublisher(), clock, pendingLeaseMs: 10_000 };
  for (const [i, user] of ['U1', 'U2', 'U3'].entries()) {
    await applyReactionEvent(
      reactionEvent({ user, present: true, ts: `1700000001.00000${i}` }),
      deps,
    );
  }
  await applyReactionEvent(
    reactionEvent({ user: 'U1', reaction: 'heart', present: true, ts: '1700000002.000000' }),
    deps,
  );
  return { store, clock };
}

describe('reconcile', () => {
  it('finds no drift in a consistent store', async () => {
    const { store, clock } = await seeded();
    expect(await reconcile(store, { clock, pendingLeaseMs: 10_000, repair: true })).toEqual({
      statesScanned: 4,
      emojiChecked: 2,
      drift: [],
      skipped: [],
      pendingCleared: 0,
      badRecords: [],
      failed: [],
    });
  });

  it('reports drift without writing in report-only mode, then repairs it with a version bump', async () => {
    const { store, clock } = await seeded();
    await store.setCount('tada', 7, 3);
    await store.setCount('ghost', 2, null);
    const dry = await reconcile(store, { clock, pendingLeaseMs: 10_000, repair: false });
    expect(dry.drift).toEqual([
      { emoji: 'ghost', stored: 2, expected: 0, repaired: false },
      { emoji: 'tada', stored: 7, expected: 3, repaired: false },
    ]);
    expect(store.counts.get('tada')?.count).toBe(7);

    const fixed = await reconcile(store, { clock, pendingLeaseMs: 10_000, repair: true });
    expect(fixed.drift.map((d) => d.repaired)).toEqual([true, true]);
    expect(store.counts.get('tada')).toEqual({ emoji: 'tada', count: 3, version: 5 });
    expect(store.counts.get('ghost')).toEqual({ emoji: 'ghost', count: 0, version: 2 });
  });

  it('restores a missing count document', async () => {
    const { store, clock } = await seeded();
    store.counts.delete('heart');
    const report = await reconcile(store, { clock, pendingLeaseMs: 10_000, repair: true });
    expect(report.drift).toEqual([{ emoji: 'heart', stored: 0, expected: 1, repaired: true }]);
    expect(store.counts.get('heart')?.count).toBe(1);
  });

  it('skips an emoji with an update in flight (young pending marker)', async () => {
    const { store, clock } = await seeded();
    const state = [...store.states.values()].find((s) => s.baseEmoji === 'heart') as ReactionState;
    // A live attempt wrote its state (present -> absent) but has not changed the count yet.
    store.states.set(state.key, {
      ...state,
      present: false,
      rev: state.rev + 1,
      pending: { delta: -1, since: clock.now() },
    });
    const report = await reconcile(store, { clock, pendingLeaseMs: 10_000, repair: true });
    expect(report.skipped).toEqual(['heart']);
    expect(store.counts.get('heart')?.count).toBe(1);
  });

  it('clears a stale pending marker and repairs the count it left behind', async () => {
    const { store, clock } = await seeded();
    const state = [...store.states.values()].find((s) => s.baseEmoji === 'heart') as ReactionState;
    store.states.set(state.key, {
      ...state,
      present: false,
      rev: state.rev + 1,
      pending: { delta: -1, since: clock.now() },
    });
    clock.advance(10_000);
    const report = await reconcile(store, { clock, pendingLeaseMs: 10_000, repair: true });
    expect(report.pendingCleared).toBe(1);
    expect(report.drift).toEqual([{ emoji: 'heart', stored: 1, expected: 0, repaired: true }]);
    expect(store.states.get(state.key)?.pending).toBeNull();
  });

  it('does not overwrite a count that changed while it ran', async () => {
    const { store, clock } = await seeded();
    await store.setCount('tada', 9, 3);
    // Simulate a concurrent event landing between the count snapshot and the repair.
    const scan = store.scanStates.bind(store);
    store.scanStates = async function* () {
      await store.adjustCount('tada', 1);
      yield* scan();
    };
    const report = await reconcile(store, { clock, pendingLeaseMs: 10_000, repair: true });
    expect(report.skipped).toEqual(['tada']);
    expect(store.counts.get('tada')?.count).toBe(10);
  });

  it('reports a reaction and a count of no emoji without failing, and still repairs the rest (issue 12)', async () => {
    const { store, clock } = await seeded();
    // What an event named only `::skin-tone-2` left behind before the edge refused such names.
    const bad: ReactionState = {
      key: 'T|message%3AC1%3A1|U9|%3A%3Askin-tone-2',
      ref: { team: 'T', item: 'message:C1:1', user: 'U9', reaction: '::skin-tone-2' },
      baseEmoji: '',
      present: true,
      eventTs: '001700000003.000000',
      rev: 1,
      pending: { delta: 1, since: clock.now() - 60_000 },
    };
    await store.putState(bad, null);
    await store.setCount('', 1, null);
    await store.setCount('tada', 9, 3);
    const report = await reconcile(store, { clock, pendingLeaseMs: 10_000, repair: true });
    expect(report.badRecords).toEqual([
      { key: 'count:', reason: 'a count of no emoji (empty name)' },
      { key: bad.key, reason: 'a reaction of no emoji (only a skin tone)' },
    ]);
    expect(report.drift).toEqual([{ emoji: 'tada', stored: 9, expected: 3, repaired: true }]);
    expect(store.counts.get('tada')?.count).toBe(3);
  });

  it('reports a repair the store refuses and goes on with the other emoji; stops only when the store is down', async () => {
    const { store, clock } = await seeded();
    await store.setCount('tada', 9, 3);
    await store.setCount('heart', 5, 1);
    const setCount = store.setCount.bind(store);
    store.setCount = async (emoji, count, version) => {
      if (emoji === 'heart') throw new Error('ValidationException: refused');
      return setCount(emoji, count, version);
    };
    const report = await reconcile(store, { clock, pendingLeaseMs: 10_000, repair: true });
    expect(report.failed).toEqual([{ emoji: 'heart', error: 'ValidationException: refused' }]);
    expect(store.counts.get('tada')?.count).toBe(3);

    store.setCount = async () => {
      throw new StoreUnavailableError('down');
    };
    await expect(reconcile(store, { clock, pendingLeaseMs: 10_000, repair: true })).rejects.toThrow(
      StoreUnavailableError,
    );
  });
});
