import { describe, expect, it } from '@jest/globals';
import {
  initialLeaderboard,
  leaderboardReducer,
  rankRows,
  totalCount,
  type LeaderboardAction,
  type LeaderboardState,
} from '../src/live/leaderboard-state.js';
import { count } from './support/fakes.js';

function run(...actions: LeaderboardAction[]): LeaderboardState {
  return actions.reduce(leaderboardReducer, initialLeaderboard);
}

const counts = (state: LeaderboardState) =>
  Object.fromEntries([...state.rows.values()].map((r) => [r.emoji, r.count]));

describe('the version rule', () => {
  const snapshot: LeaderboardAction = {
    type: 'snapshot',
    reactions: [count('+1', 5, 10), count('tada', 2, 4)],
    at: 1_000,
  };

  it('applies a snapshot wholesale', () => {
    const before = run({ type: 'snapshot', reactions: [count('eyes', 9, 99)], at: 1 });
    const after = leaderboardReducer(before, snapshot);
    expect(counts(after)).toEqual({ '+1': 5, tada: 2 });
    expect(after.hasSnapshot).toBe(true);
    expect(after.updatedAt).toBe(1_000);
  });

  it('takes a snapshot with lower versions than held (a rebuilt store starts again)', () => {
    const state = run(snapshot, { type: 'snapshot', reactions: [count('+1', 1, 1)], at: 2_000 });
    expect(counts(state)).toEqual({ '+1': 1 });
    // ...and the next update after it applies, though its version is below the old one.
    const next = leaderboardReducer(state, {
      type: 'update',
      reactions: [count('+1', 2, 2)],
      at: 3,
    });
    expect(counts(next)).toEqual({ '+1': 2 });
  });

  it('applies an update whose version is newer', () => {
    const state = run(snapshot, { type: 'update', reactions: [count('+1', 6, 11)], at: 2_000 });
    expect(counts(state)).toEqual({ '+1': 6, tada: 2 });
    expect(state.updatedAt).toBe(2_000);
  });

  it('ignores stale and duplicate updates, returning the same state object', () => {
    const state = run(snapshot);
    const stale = leaderboardReducer(state, {
      type: 'update',
      reactions: [count('+1', 4, 9)],
      at: 5,
    });
    const duplicate = leaderboardReducer(state, {
      type: 'update',
      reactions: [count('+1', 5, 10)],
      at: 5,
    });
    expect(stale).toBe(state);
    expect(duplicate).toBe(state);
    expect(counts(state)).toEqual({ '+1': 5, tada: 2 });
  });

  it('applies updates that arrive out of order by version, not by arrival', () => {
    const state = run(
      snapshot,
      { type: 'update', reactions: [count('+1', 8, 13)], at: 2 },
      { type: 'update', reactions: [count('+1', 6, 11)], at: 3 },
      { type: 'update', reactions: [count('+1', 7, 12)], at: 4 },
    );
    expect(counts(state)).toEqual({ '+1': 8, tada: 2 });
    expect(state.updatedAt).toBe(2);
  });

  it('removes the row on count 0, and a stale update cannot bring it back', () => {
    const removed = run(snapshot, { type: 'update', reactions: [count('tada', 0, 5)], at: 2 });
    expect(counts(removed)).toEqual({ '+1': 5 });
    const stale = leaderboardReducer(removed, {
      type: 'update',
      reactions: [count('tada', 1, 3)],
      at: 3,
    });
    expect(counts(stale)).toEqual({ '+1': 5 });
    const readded = leaderboardReducer(removed, {
      type: 'update',
      reactions: [count('tada', 1, 6)],
      at: 4,
    });
    expect(counts(readded)).toEqual({ '+1': 5, tada: 1 });
  });

  it('adds a new emoji from an update', () => {
    const state = run(snapshot, { type: 'update', reactions: [count('partyparrot', 1, 1)], at: 2 });
    expect(counts(state)).toEqual({ '+1': 5, tada: 2, partyparrot: 1 });
  });

  it('applies each entry of a multi-entry update on its own', () => {
    const state = run(snapshot, {
      type: 'update',
      reactions: [count('+1', 3, 2), count('tada', 3, 5), count('eyes', 1, 1)],
      at: 2,
    });
    expect(counts(state)).toEqual({ '+1': 5, tada: 3, eyes: 1 });
  });

  it('replays updates that raced the snapshot request over the snapshot', () => {
    // The server read its snapshot (tada v4) before it broadcast tada v5, but the broadcast
    // reached this client first.
    const state = run(
      { type: 'snapshot', reactions: [count('+1', 1, 1)], at: 0 },
      { type: 'snapshotRequested' },
      { type: 'update', reactions: [count('tada', 3, 5)], at: 1 },
      snapshot,
    );
    expect(counts(state)).toEqual({ '+1': 5, tada: 3 });
    expect(state.pending).toBeNull();
  });
});

describe('ranking', () => {
  it('orders by count, then by name, and totals the counts', () => {
    const state = run({
      type: 'snapshot',
      reactions: [count('b', 2, 1), count('a', 2, 1), count('c', 7, 1), count('d', 1, 1)],
      at: 0,
    });
    expect(rankRows(state.rows).map((r) => r.emoji)).toEqual(['c', 'a', 'b', 'd']);
    expect(totalCount(state.rows)).toBe(12);
  });
});
