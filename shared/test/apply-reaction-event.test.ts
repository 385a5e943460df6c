import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  applyReactionEvent,
  listReactions,
  reconcile,
  ReactionBusyError,
  StoreConflictError,
  StoreUnavailableError,
  type CountingDeps,
} from '../src/index.js';
import { InMemoryReactionStore, ManualClock, RecordingPublisher } from '../src/testing/index.js';
import { reactionEvent } from './helpers.js';

let store: InMemoryReactionStore;
let publisher: RecordingPublisher;
let clock: ManualClock;
let deps: CountingDeps;

beforeEach(() => {
  store = new InMemoryReactionStore();
  publisher = new RecordingPublisher();
  clock = new ManualClock();
  deps = { store, publisher, clock, pendingLeaseMs: 10_000 };
});

const add = (
  ts: string,
  extra: Parameters<typeof reactionEvent>[0] extends infer T ? Partial<T> : never = {},
) => reactionEvent({ present: true, ts, ...extra });
const remove = (ts: string, extra: Partial<Parameters<typeof reactionEvent>[0]> = {}) =>
  reactionEvent({ present: false, ts, ...extra });
const countOf = async (emoji: string) =>
  (await store.listCounts()).find((c) => c.emoji === emoji)?.count ?? 0;

describe('applyReactionEvent', () => {
  it('counts an add, publishes the absolute count with version 1', async () => {
    const outcome = await applyReactionEvent(add('1700000001.000001'), deps);
    expect(outcome).toEqual({ kind: 'changed', count: { emoji: 'tada', count: 1, version: 1 } });
    expect(publisher.published).toEqual([[{ emoji: 'tada', count: 1, version: 1 }]]);
    expect(store.states.size).toBe(1);
    expect([...store.states.values()][0]?.pending).toBeNull();
  });

  it('ignores duplicate deliveries and retries of the same event', async () => {
    await applyReactionEvent(add('1700000001.000001'), deps);
    const again = await applyReactionEvent(add('1700000001.000001'), deps);
    const newEventIdSameTs = await applyReactionEvent(
      add('1700000001.000001', { eventId: 'other' }),
      deps,
    );
    expect(again).toEqual({ kind: 'unchanged', reason: 'stale' });
    expect(newEventIdSameTs).toEqual({ kind: 'unchanged', reason: 'stale' });
    expect(await countOf('tada')).toBe(1);
    expect(publisher.published).toHaveLength(1);
  });

  it('a removal that arrives before its older add leaves the reaction removed', async () => {
    expect(await applyReactionEvent(remove('1700000002.000000'), deps)).toEqual({
      kind: 'unchanged',
      reason: 'no_flip',
    });
    expect(await applyReactionEvent(add('1700000001.000000'), deps)).toEqual({
      kind: 'unchanged',
      reason: 'stale',
    });
    expect(await countOf('tada')).toBe(0);
    expect(publisher.published).toHaveLength(0);
  });

  it('orders by microseconds, not floats', async () => {
    await applyReactionEvent(add('999999999999.999998'), deps);
    await applyReactionEvent(remove('999999999999.999999'), deps);
    expect(await countOf('tada')).toBe(0);
    // The older add must not resurrect it even though both parse to the same double.
    await applyReactionEvent(add('999999999999.999998', { eventId: 'late' }), deps);
    expect(await countOf('tada')).toBe(0);
  });

  it('removing a reaction never seen changes nothing and never goes negative', async () => {
    await applyReactionEvent(remove('1700000001.000000'), deps);
    expect(await store.listCounts()).toEqual([]);
    expect(await listReactions(store)).toEqual([]);
  });

  it('add then remove publishes count 0 with a higher version', async () => {
    await applyReactionEvent(add('1700000001.000000'), deps);
    await applyReactionEvent(remove('1700000002.000000'), deps);
    expect(publisher.published.flat()).toEqual([
      { emoji: 'tada', count: 1, version: 1 },
      { emoji: 'tada', count: 0, version: 2 },
    ]);
    expect(await listReactions(store)).toEqual([]);
  });

  it('folds skin tones into the base emoji and counts each variant as its own reaction', async () => {
    await applyReactionEvent(add('1700000001.000000', { reaction: '+1' }), deps);
    await applyReactionEvent(
      add('1700000002.000000', { reaction: '+1::skin-tone-3', user: 'U2' }),
      deps,
    );
    await applyReactionEvent(add('1700000003.000000', { reaction: '+1::skin-tone-3' }), deps);
    expect(await countOf('+1')).toBe(3);
    expect(await countOf('+1::skin-tone-3')).toBe(0);
    await applyReactionEvent(remove('1700000004.000000', { reaction: '+1::skin-tone-3' }), deps);
    expect(await countOf('+1')).toBe(2);
  });

  it('distinguishes items, users and teams', async () => {
    await applyReactionEvent(add('1700000001.000000'), deps);
    await applyReactionEvent(add('1700000001.000000', { user: 'U2' }), deps);
    await applyReactionEvent(add('1700000001.000000', { messageTs: '1700000000.000200' }), deps);
    await applyReactionEvent(add('1700000001.000000', { channel: 'C2' }), deps);
    await applyReactionEvent(add('1700000001.000000', { team: 'T2' }), deps);
    expect(await countOf('tada')).toBe(5);
  });

  it('200 concurrent distinct adds give exactly 200', async () => {
    const interleaving = new InMemoryReactionStore({
      beforeOperation: () => new Promise((r) => setImmediate(r)),
    });
    const d = { ...deps, store: interleaving };
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        applyReactionEvent(add('1700000001.000000', { user: `U${i}` }), d),
      ),
    );
    expect((await interleaving.listCounts())[0]).toEqual({
      emoji: 'tada',
      count: 200,
      version: 200,
    });
  });

  it('a durable change whose publish fails is reported, not thrown', async () => {
    publisher.failing = true;
    const outcome = await applyReactionEvent(add('1700000001.000000'), deps);
    expect(outcome.kind).toBe('changed');
    expect(outcome.kind === 'changed' && outcome.publishError).toBeInstanceOf(Error);
    expect(await countOf('tada')).toBe(1);
  });

  describe('failures between writes', () => {
    it('store down before anything is written: error, nothing stored, retry counts once', async () => {
      store.failNext('getState');
      await expect(applyReactionEvent(add('1700000001.000000'), deps)).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      expect(store.states.size).toBe(0);
      await applyReactionEvent(add('1700000001.000000'), deps);
      await applyReactionEvent(add('1700000001.000000'), deps);
      expect(await countOf('tada')).toBe(1);
    });

    it('crash after the state write: the pending change is finished by the retry after the lease', async () => {
      store.failNext('adjustCount');
      await expect(applyReactionEvent(add('1700000001.000000'), deps)).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      expect(await countOf('tada')).toBe(0);
      expect([...store.states.values()][0]?.pending).toEqual({ delta: 1, since: clock.now() });

      // A retry within the lease might race the original attempt: refuse, Slack retries later.
      await expect(applyReactionEvent(add('1700000001.000000'), deps)).rejects.toBeInstanceOf(
        ReactionBusyError,
      );

      clock.advance(10_000);
      expect(await applyReactionEvent(add('1700000001.000000'), deps)).toEqual({
        kind: 'unchanged',
        reason: 'stale',
      });
      expect(await countOf('tada')).toBe(1);
      expect([...store.states.values()][0]?.pending).toBeNull();
      expect(publisher.latest().get('tada')).toEqual({ emoji: 'tada', count: 1, version: 1 });
    });

    it('a later event for the same reaction also finishes the pending change first', async () => {
      store.failNext('adjustCount');
      await expect(applyReactionEvent(add('1700000001.000000'), deps)).rejects.toThrow();
      clock.advance(60_000);
      await applyReactionEvent(remove('1700000002.000000'), deps);
      expect(await countOf('tada')).toBe(0);
      expect(publisher.published.flat().map((c) => c.count)).toEqual([1, 0]);
    });

    it('the pending write fails: nothing is stored and the retry counts once', async () => {
      store.failNext('putState');
      await expect(applyReactionEvent(add('1700000001.000000'), deps)).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      expect(store.states.size).toBe(0);
      await applyReactionEvent(add('1700000001.000000'), deps);
      expect(await countOf('tada')).toBe(1);
    });

    it('clearing the marker fails after the count is stored: 200, and reconcile settles the marker', async () => {
      const putState = store.putState.bind(store);
      let calls = 0;
      store.putState = async (next, rev) => {
        calls++;
        if (calls === 2) throw new StoreUnavailableError('down between the writes');
        return putState(next, rev);
      };
      const outcome = await applyReactionEvent(add('1700000001.000000'), deps);
      expect(outcome.kind === 'changed' && outcome.settleError).toBeInstanceOf(
        StoreUnavailableError,
      );
      expect(await countOf('tada')).toBe(1);
      expect([...store.states.values()][0]?.pending).not.toBeNull();

      clock.advance(10_000);
      const report = await reconcile(store, { clock, pendingLeaseMs: 10_000, repair: true });
      expect(report).toMatchObject({ pendingCleared: 1, drift: [] });
      await applyReactionEvent(remove('1700000002.000000'), deps);
      expect(await countOf('tada')).toBe(0);
    });

    it('a stale marker left that way is settled exactly by the next event (recount, not re-apply)', async () => {
      const putState = store.putState.bind(store);
      let calls = 0;
      store.putState = async (next, rev) => {
        calls++;
        if (calls === 2) throw new StoreUnavailableError('down between the writes');
        return putState(next, rev);
      };
      await applyReactionEvent(add('1700000001.000000'), deps);
      clock.advance(10_000);
      await applyReactionEvent(add('1700000001.000000', { eventId: 'retry' }), deps);
      expect(await countOf('tada')).toBe(1);
      expect([...store.states.values()][0]?.pending).toBeNull();
    });

    it('a count write that timed out but landed is not counted twice by the retry', async () => {
      store.failAfter('adjustCount');
      await expect(applyReactionEvent(add('1700000001.000000'), deps)).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      expect(await countOf('tada')).toBe(1);
      clock.advance(10_000);
      await applyReactionEvent(add('1700000001.000000'), deps);
      expect(await countOf('tada')).toBe(1);
      expect(publisher.latest().get('tada')?.count).toBe(1);
    });

    it('recovery backs off (503) while another reaction of the same emoji is in flight', async () => {
      store.failNext('adjustCount');
      await expect(applyReactionEvent(add('1700000001.000000'), deps)).rejects.toThrow();
      clock.advance(10_000);
      // Another user's add of the same emoji is mid-flight: its state is written, its count not yet.
      const other = {
        ...[...store.states.values()][0]!,
        key: 'other',
        ref: { team: 'T1', item: 'x', user: 'U9', reaction: 'tada' },
        pending: { delta: 1 as const, since: clock.now() },
      };
      store.states.set('other', other);
      await expect(applyReactionEvent(add('1700000001.000000'), deps)).rejects.toBeInstanceOf(
        ReactionBusyError,
      );
    });
  });

  it('gives up with StoreConflictError when every compare-and-set loses', async () => {
    const hostile = new InMemoryReactionStore();
    hostile.putState = async () => false;
    await expect(
      applyReactionEvent(add('1700000001.000000'), { ...deps, store: hostile, maxAttempts: 3 }),
    ).rejects.toBeInstanceOf(StoreConflictError);
  });
});
