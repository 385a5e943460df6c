/**
 * The behaviour every `ReactionStore` adapter must show, run against its real local database
 * (FerretDB for MongoDB, dynalite for DynamoDB) and against the in-memory store of `./testing`.
 *
 * An adapter's test file calls `describeReactionStoreContract` once, at top level. The suite reads
 * and writes only through the port, so it can be shared as is; `reset` is the one place that
 * knows the database (it empties it between tests).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  applyReactionEvent,
  baseEmoji,
  formatEventTs,
  reactionKey,
  type EmojiCount,
  type ReactionEvent,
  type ReactionRef,
  type ReactionState,
  type ReactionStore,
} from '../src/index.js';
import { ManualClock, RecordingPublisher } from '../src/testing/index.js';

export interface ReactionStoreHarness {
  readonly store: ReactionStore;
  /** Removes every state and count (called before each test). */
  reset(): Promise<void>;
  /** Releases what `setup` acquired (called once, after the last test). */
  teardown(): Promise<void>;
}

/**
 * Emoji names that trip up stores which put names into field names, paths, expressions or
 * object keys: MongoDB forbids `.` and a leading `$` in field names, DynamoDB expressions need
 * placeholders, and `__proto__` is special on plain JavaScript objects.
 */
export const AWKWARD_EMOJI_NAMES: readonly string[] = [
  '+1',
  '-1',
  'flag-us',
  'e-mail',
  '100',
  'a',
  'a.b',
  'a.b.c',
  '.',
  '$dollar',
  '$',
  'x$y',
  '_id',
  'count',
  '__proto__',
  'constructor',
  'ünïcödé',
  '日本語',
  '👍🏽',
  'pipe|name',
  'per%20cent',
];

/** Store keys with the separators and characters that have meaning in queries or paths. */
export const AWKWARD_STATE_KEYS: readonly string[] = [
  'T|I|U|R',
  '%7C|%25|%2E',
  'a.b.c',
  '$key',
  '$',
  'k.$x',
  'k',
  'k|',
  '__proto__',
  'ünï|👍🏽|日本',
];

let sequence = 0;

function makeRef(overrides: Partial<ReactionRef> = {}): ReactionRef {
  sequence++;
  return {
    team: 'T0001',
    item: `message:C0001:1700000000.${String(sequence).padStart(6, '0')}`,
    user: `U${String(sequence).padStart(6, '0')}`,
    reaction: '+1::skin-tone-2',
    ...overrides,
  };
}

/** A complete state; the key is derived from the ref unless given. */
function makeState(overrides: Partial<ReactionState> = {}): ReactionState {
  const ref = overrides.ref ?? makeRef();
  return {
    key: reactionKey(ref),
    ref,
    baseEmoji: baseEmoji(ref.reaction),
    present: true,
    eventTs: formatEventTs({ seconds: 1_700_000_000, micros: 1 }),
    rev: 1,
    pending: null,
    ...overrides,
  };
}

function byEmoji(counts: readonly EmojiCount[]): EmojiCount[] {
  return [...counts].sort((a, b) => (a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0));
}

function byKey(states: readonly ReactionState[]): ReactionState[] {
  return [...states].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

async function collect(states: AsyncIterable<ReactionState>): Promise<ReactionState[]> {
  const out: ReactionState[] = [];
  for await (const state of states) out.push(state);
  return out;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Registers the contract suite for one adapter; `setup` runs once, before the first test. */
export function describeReactionStoreContract(
  name: string,
  setup: () => Promise<ReactionStoreHarness>,
): void {
  describe(`ReactionStore contract: ${name}`, () => {
    let harness: ReactionStoreHarness | undefined;
    const store = (): ReactionStore => {
      if (harness === undefined) throw new Error('the contract setup did not complete');
      return harness.store;
    };
    const countOf = async (emoji: string): Promise<EmojiCount | undefined> =>
      (await store().listCounts()).find((c) => c.emoji === emoji);

    beforeAll(async () => {
      harness = await setup();
    });
    afterAll(async () => {
      await harness?.teardown();
    });
    beforeEach(async () => {
      await harness?.reset();
    });

    describe('getState', () => {
      it('returns null for a key that was never stored', async () => {
        expect(await store().getState('T0001|message%3AC1%3A1.2|U1|smile')).toBeNull();
      });

      it('returns a present state without pending change exactly as written', async () => {
        const state = makeState();
        expect(await store().putState(state, null)).toBe(true);
        expect(await store().getState(state.key)).toEqual(state);
      });

      it('returns an absent state with a pending change exactly as written', async () => {
        const removing = makeState({
          ref: makeRef({ item: 'file:F0001', reaction: 'tada::skin-tone-6' }),
          present: false,
          eventTs: formatEventTs({ seconds: 1_760_000_123, micros: 999_999 }),
          rev: 7,
          pending: { delta: -1, since: 1_767_225_600_123 },
        });
        expect(removing.baseEmoji).toBe('tada');
        expect(await store().putState(removing, null)).toBe(true);
        expect(await store().getState(removing.key)).toEqual(removing);

        const adding = makeState({ pending: { delta: 1, since: 1 } });
        expect(await store().putState(adding, null)).toBe(true);
        expect(await store().getState(adding.key)).toEqual(adding);
      });

      it('keeps keys apart, even when one is a prefix of another', async () => {
        const short = makeState({ key: 'k' });
        const long = makeState({ key: 'k|', present: false });
        expect(await store().putState(short, null)).toBe(true);
        expect(await store().putState(long, null)).toBe(true);
        expect(await store().getState('k')).toEqual(short);
        expect(await store().getState('k|')).toEqual(long);
        expect(await store().getState('k|x')).toBeNull();
      });
    });

    describe('putState', () => {
      it('inserts when expectedRev is null and no state exists', async () => {
        const state = makeState();
        expect(await store().putState(state, null)).toBe(true);
        expect(await store().getState(state.key)).toEqual(state);
      });

      it('refuses an insert when a state already exists, leaving it unchanged', async () => {
        const first = makeState();
        expect(await store().putState(first, null)).toBe(true);
        const second = {
          ...first,
          present: false,
          rev: 1,
          eventTs: formatEventTs({ seconds: 1_800_000_000, micros: 0 }),
        };
        expect(await store().putState(second, null)).toBe(false);
        expect(await store().getState(first.key)).toEqual(first);
      });

      it('replaces the state when expectedRev matches, clearing fields too', async () => {
        const v1 = makeState();
        expect(await store().putState(v1, null)).toBe(true);
        const v2: ReactionState = {
          ...v1,
          present: false,
          eventTs: formatEventTs({ seconds: 1_700_000_001, micros: 0 }),
          rev: 2,
          pending: { delta: -1, since: 1_767_225_600_000 },
        };
        expect(await store().putState(v2, 1)).toBe(true);
        expect(await store().getState(v1.key)).toEqual(v2);
        const v3: ReactionState = { ...v2, rev: 3, pending: null };
        expect(await store().putState(v3, 2)).toBe(true);
        expect(await store().getState(v1.key)).toEqual(v3);
      });

      it('refuses an older or newer expectedRev and writes nothing', async () => {
        const v2 = makeState({ rev: 2 });
        expect(await store().putState(v2, null)).toBe(true);
        const attempt = { ...v2, present: false, rev: 9 };
        expect(await store().putState(attempt, 1)).toBe(false);
        expect(await store().putState(attempt, 3)).toBe(false);
        expect(await store().getState(v2.key)).toEqual(v2);
      });

      it('refuses an update of a state that does not exist, creating nothing', async () => {
        const state = makeState({ rev: 2 });
        expect(await store().putState(state, 1)).toBe(false);
        expect(await store().getState(state.key)).toBeNull();
        expect(await collect(store().scanStates())).toEqual([]);
      });

      it('lets exactly one of many concurrent inserts of one key win', async () => {
        const ref = makeRef();
        const candidates = range(1, 20).map((i) =>
          makeState({ ref, eventTs: formatEventTs({ seconds: 1_700_000_000, micros: i }) }),
        );
        const won = await Promise.all(candidates.map((s) => store().putState(s, null)));
        expect(won.filter(Boolean)).toHaveLength(1);
        const winner = candidates[won.indexOf(true)];
        expect(await store().getState(reactionKey(ref))).toEqual(winner);
      });

      it('lets exactly one of many concurrent updates with the same expectedRev win', async () => {
        const v1 = makeState();
        expect(await store().putState(v1, null)).toBe(true);
        const candidates = range(1, 20).map((i) => ({
          ...v1,
          rev: 2,
          eventTs: formatEventTs({ seconds: 1_700_000_001, micros: i }),
        }));
        const won = await Promise.all(candidates.map((s) => store().putState(s, 1)));
        expect(won.filter(Boolean)).toHaveLength(1);
        expect(await store().getState(v1.key)).toEqual(candidates[won.indexOf(true)]);
      });
    });

    describe('adjustCount', () => {
      it('creates an unknown emoji at 0 and adds 1, at version 1', async () => {
        expect(await store().adjustCount('tada', 1)).toEqual({
          emoji: 'tada',
          count: 1,
          version: 1,
        });
        expect(await store().listCounts()).toEqual([{ emoji: 'tada', count: 1, version: 1 }]);
      });

      it('counts up and down with a version that grows by one with every change', async () => {
        const deltas = [1, 1, -1, 1, -1, -1] as const;
        const seen: EmojiCount[] = [];
        for (const delta of deltas) seen.push(await store().adjustCount('eyes', delta));
        expect(seen.map((c) => c.count)).toEqual([1, 2, 1, 2, 1, 0]);
        expect(seen.map((c) => c.version)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(await countOf('eyes')).toEqual({ emoji: 'eyes', count: 0, version: 6 });
      });

      it('leaves a zero count and its version unchanged on -1', async () => {
        await store().adjustCount('eyes', 1);
        await store().adjustCount('eyes', -1);
        expect(await store().adjustCount('eyes', -1)).toEqual({
          emoji: 'eyes',
          count: 0,
          version: 2,
        });
        expect(await store().adjustCount('eyes', -1)).toEqual({
          emoji: 'eyes',
          count: 0,
          version: 2,
        });
        expect(await countOf('eyes')).toEqual({ emoji: 'eyes', count: 0, version: 2 });
        expect(await store().adjustCount('eyes', 1)).toEqual({
          emoji: 'eyes',
          count: 1,
          version: 3,
        });
      });

      it('creates an unknown emoji at zero on -1 without going negative', async () => {
        expect(await store().adjustCount('ghost', -1)).toEqual({
          emoji: 'ghost',
          count: 0,
          version: 0,
        });
        expect(await store().listCounts()).toEqual([{ emoji: 'ghost', count: 0, version: 0 }]);
        expect(await store().adjustCount('ghost', -1)).toEqual({
          emoji: 'ghost',
          count: 0,
          version: 0,
        });
        expect(await store().adjustCount('ghost', 1)).toEqual({
          emoji: 'ghost',
          count: 1,
          version: 1,
        });
      });

      it('changes only the emoji it is given', async () => {
        await store().adjustCount('a', 1);
        await store().adjustCount('b', 1);
        await store().adjustCount('b', 1);
        await store().adjustCount('a', -1);
        expect(byEmoji(await store().listCounts())).toEqual([
          { emoji: 'a', count: 0, version: 2 },
          { emoji: 'b', count: 2, version: 2 },
        ]);
      });

      it('applies 100 concurrent +1 exactly once each', async () => {
        const results = await Promise.all(range(1, 100).map(() => store().adjustCount('fire', 1)));
        // Every caller saw its own increment: a lost or doubled update would repeat a value.
        expect(results.map((c) => c.count).sort((a, b) => a - b)).toEqual(range(1, 100));
        expect(results.map((c) => c.version).sort((a, b) => a - b)).toEqual(range(1, 100));
        expect(await countOf('fire')).toEqual({ emoji: 'fire', count: 100, version: 100 });
      });

      it('never goes below zero under concurrent -1', async () => {
        for (let i = 0; i < 10; i++) await store().adjustCount('fire', 1);
        const results = await Promise.all(range(1, 30).map(() => store().adjustCount('fire', -1)));
        const byVersion = [...results].sort((a, b) => a.version - b.version || b.count - a.count);
        // Ten -1s applied (versions 11..20, counts 9..0); the other twenty found zero and changed
        // nothing, so they can only report the final zero at version 20.
        expect(byVersion).toEqual([
          ...range(11, 20).map((version) => ({ emoji: 'fire', count: 20 - version, version })),
          ...range(1, 20).map(() => ({ emoji: 'fire', count: 0, version: 20 })),
        ]);
        expect(await countOf('fire')).toEqual({ emoji: 'fire', count: 0, version: 20 });
      });

      it('balances concurrent +1 and -1', async () => {
        expect(await store().setCount('wave', 50, null)).toEqual({
          emoji: 'wave',
          count: 50,
          version: 1,
        });
        const deltas = range(1, 100).map((i) => (i % 2 === 0 ? 1 : -1) as 1 | -1);
        const results = await Promise.all(deltas.map((d) => store().adjustCount('wave', d)));
        expect(results.map((c) => c.version).sort((a, b) => a - b)).toEqual(range(2, 101));
        expect(await countOf('wave')).toEqual({ emoji: 'wave', count: 50, version: 101 });
      });
    });

    describe('setCount', () => {
      it('creates a missing count at version 1 when expectedVersion is null', async () => {
        expect(await store().setCount('rocket', 5, null)).toEqual({
          emoji: 'rocket',
          count: 5,
          version: 1,
        });
        expect(await store().listCounts()).toEqual([{ emoji: 'rocket', count: 5, version: 1 }]);
      });

      it('returns null and writes nothing when expectedVersion is null but a count exists', async () => {
        await store().adjustCount('rocket', 1);
        expect(await store().setCount('rocket', 9, null)).toBeNull();
        expect(await countOf('rocket')).toEqual({ emoji: 'rocket', count: 1, version: 1 });
      });

      it('returns null and writes nothing when the version does not match', async () => {
        await store().adjustCount('rocket', 1);
        await store().adjustCount('rocket', 1);
        expect(await store().setCount('rocket', 9, 1)).toBeNull();
        expect(await store().setCount('rocket', 9, 3)).toBeNull();
        expect(await countOf('rocket')).toEqual({ emoji: 'rocket', count: 2, version: 2 });
      });

      it('returns null and creates nothing when a version is expected but no count exists', async () => {
        expect(await store().setCount('rocket', 9, 4)).toBeNull();
        expect(await store().listCounts()).toEqual([]);
      });

      it('sets the count and bumps the version when the version matches', async () => {
        await store().adjustCount('rocket', 1);
        await store().adjustCount('rocket', 1);
        expect(await store().setCount('rocket', 7, 2)).toEqual({
          emoji: 'rocket',
          count: 7,
          version: 3,
        });
        expect(await countOf('rocket')).toEqual({ emoji: 'rocket', count: 7, version: 3 });
        expect(await store().setCount('rocket', 0, 3)).toEqual({
          emoji: 'rocket',
          count: 0,
          version: 4,
        });
        // adjustCount carries on from the count and version that setCount wrote.
        expect(await store().adjustCount('rocket', -1)).toEqual({
          emoji: 'rocket',
          count: 0,
          version: 4,
        });
        expect(await store().adjustCount('rocket', 1)).toEqual({
          emoji: 'rocket',
          count: 1,
          version: 5,
        });
      });

      it('lets exactly one of many concurrent setCounts with the same version win', async () => {
        await store().adjustCount('rocket', 1);
        const results = await Promise.all(
          range(10, 29).map((n) => store().setCount('rocket', n, 1)),
        );
        const winners = results.filter((r): r is EmojiCount => r !== null);
        expect(winners).toHaveLength(1);
        expect(winners[0]?.version).toBe(2);
        expect(await countOf('rocket')).toEqual(winners[0]);
      });
    });

    describe('listCounts', () => {
      it('is empty for an empty store', async () => {
        expect(await store().listCounts()).toEqual([]);
      });

      it('lists every count, zeros included', async () => {
        await store().adjustCount('a', 1);
        await store().adjustCount('a', 1);
        await store().adjustCount('b', 1);
        await store().adjustCount('b', -1);
        await store().setCount('c', 0, null);
        expect(byEmoji(await store().listCounts())).toEqual([
          { emoji: 'a', count: 2, version: 2 },
          { emoji: 'b', count: 0, version: 2 },
          { emoji: 'c', count: 0, version: 1 },
        ]);
      });
    });

    describe('scanStates', () => {
      it('yields nothing for an empty store', async () => {
        expect(await collect(store().scanStates())).toEqual([]);
      });

      it('yields each of 250 states exactly once (several pages for paging stores)', async () => {
        const states = range(1, 250).map((i) =>
          makeState({
            present: i % 3 !== 0,
            rev: i,
            pending: i % 7 === 0 ? { delta: 1, since: 1_767_225_600_000 + i } : null,
          }),
        );
        for (let i = 0; i < states.length; i += 50) {
          const written = await Promise.all(
            states.slice(i, i + 50).map((s) => store().putState(s, null)),
          );
          expect(written.every(Boolean)).toBe(true);
        }
        const scanned = await collect(store().scanStates());
        expect(scanned).toHaveLength(250);
        expect(new Set(scanned.map((s) => s.key)).size).toBe(250);
        expect(byKey(scanned)).toEqual(byKey(states));
      });

      it('with a baseEmoji filter yields every state of that emoji (skin tones included)', async () => {
        const refs = [
          makeRef({ reaction: 'tada' }),
          makeRef({ reaction: '+1' }),
          makeRef({ reaction: '+1::skin-tone-4' }),
          makeRef({ reaction: 'heart' }),
          makeRef({ reaction: '+1' }),
        ];
        const states = refs.map((ref, i) => makeState({ ref, present: i !== 4 }));
        for (const s of states) expect(await store().putState(s, null)).toBe(true);
        // Adapters may yield more than asked (the port allows it); the states of the emoji must all be there.
        const scanned = (await collect(store().scanStates({ baseEmoji: '+1' }))).filter(
          (s) => s.baseEmoji === '+1',
        );
        expect(byKey(scanned)).toEqual(byKey(states.filter((s) => s.baseEmoji === '+1')));
      });
    });

    describe('awkward names', () => {
      it('stores counts of emoji whose names are special characters in databases', async () => {
        const expected = await Promise.all(
          AWKWARD_EMOJI_NAMES.map(async (emoji) => {
            expect(await store().adjustCount(emoji, 1)).toEqual({ emoji, count: 1, version: 1 });
            expect(await store().adjustCount(emoji, 1)).toEqual({ emoji, count: 2, version: 2 });
            expect(await store().adjustCount(emoji, -1)).toEqual({ emoji, count: 1, version: 3 });
            expect(await store().setCount(emoji, 7, 2)).toBeNull();
            expect(await store().setCount(emoji, 7, 3)).toEqual({ emoji, count: 7, version: 4 });
            return { emoji, count: 7, version: 4 };
          }),
        );
        expect(byEmoji(await store().listCounts())).toEqual(byEmoji(expected));
      });

      it('stores states whose keys and refs contain separators, dots, dollars and unicode', async () => {
        const states = [
          ...AWKWARD_STATE_KEYS.map((key) => makeState({ key })),
          makeState({
            ref: makeRef({
              team: 'T.1$',
              item: 'message:C$1.x:1700000000.000100',
              user: 'U|%2E',
              reaction: 'a.b::skin-tone-6',
            }),
          }),
        ];
        for (const state of states) expect(await store().putState(state, null)).toBe(true);
        for (const state of states) expect(await store().getState(state.key)).toEqual(state);

        const updated = states.map((s) => ({ ...s, rev: s.rev + 1, present: !s.present }));
        for (const state of updated)
          expect(await store().putState(state, state.rev - 1)).toBe(true);
        expect(byKey(await collect(store().scanStates()))).toEqual(byKey(updated));
      });
    });

    describe('ping', () => {
      it('resolves while the database answers', async () => {
        await expect(store().ping()).resolves.toBeUndefined();
      });
    });

    describe('through the core (applyReactionEvent)', () => {
      it('counts 200 concurrent distinct adds exactly, ignores their redelivery, and removes them all', async () => {
        const publisher = new RecordingPublisher();
        const deps = {
          store: store(),
          publisher,
          clock: new ManualClock(),
          pendingLeaseMs: 60_000,
        };
        const event = (i: number, present: boolean, seconds: number): ReactionEvent => ({
          kind: 'reaction',
          eventId: `Ev${i}-${present}`,
          team: 'T0001',
          user: `U${String(i).padStart(4, '0')}`,
          // Skin tones are separate reactions that count toward the same base emoji.
          reaction: i % 2 === 0 ? 'tada' : 'tada::skin-tone-3',
          item: { type: 'message', channel: 'C0001', ts: '1700000000.000100' },
          present,
          eventTs: { seconds, micros: i },
        });
        const users = range(1, 200);

        const added = await Promise.all(
          users.map((i) => applyReactionEvent(event(i, true, 1_700_000_001), deps)),
        );
        expect(added.every((o) => o.kind === 'changed')).toBe(true);
        expect(await store().listCounts()).toEqual([{ emoji: 'tada', count: 200, version: 200 }]);
        expect(publisher.latest().get('tada')).toEqual({ emoji: 'tada', count: 200, version: 200 });

        const again = await Promise.all(
          users.map((i) => applyReactionEvent(event(i, true, 1_700_000_001), deps)),
        );
        expect(again.every((o) => o.kind === 'unchanged' && o.reason === 'stale')).toBe(true);
        expect(await store().listCounts()).toEqual([{ emoji: 'tada', count: 200, version: 200 }]);

        const removed = await Promise.all(
          users.map((i) => applyReactionEvent(event(i, false, 1_700_000_002), deps)),
        );
        expect(removed.every((o) => o.kind === 'changed')).toBe(true);
        expect(await store().listCounts()).toEqual([{ emoji: 'tada', count: 0, version: 400 }]);

        const states = await collect(store().scanStates());
        expect(states).toHaveLength(200);
        expect(
          states.every((s) => !s.present && s.pending === null && s.baseEmoji === 'tada'),
        ).toBe(true);
      }, 120_000); // 1,200 round trips: FerretDB's single SQLite writer needs seconds for them
    });
  });
}
