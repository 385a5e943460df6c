/**
 * The leaderboard as the dashboard holds it, and the one rule that keeps it right: an update
 * applies only if its `version` is newer than the one held for that emoji. Updates can arrive
 * late or twice (API Gateway's fan-out is not ordered; a reconnect replays nothing but a client
 * can still see a broadcast racing its snapshot), and versions only ever grow on the server.
 */
import type { ServerMessage } from '@reactometer/shared/protocol';

export type EmojiCount = Extract<ServerMessage, { type: 'snapshot' }>['reactions'][number];

export interface LeaderboardState {
  /** Emoji with a count above zero. */
  readonly rows: ReadonlyMap<string, EmojiCount>;
  /** The newest version seen per emoji, including emoji whose count went to 0 (and left `rows`). */
  readonly versions: ReadonlyMap<string, number>;
  /**
   * Updates received since the last snapshot request, replayed over the snapshot when it comes:
   * a change broadcast while the server was reading the snapshot must not be lost. Null when no
   * snapshot is awaited.
   */
  readonly pending: readonly EmojiCount[] | null;
  readonly hasSnapshot: boolean;
  /** When (client clock, ms) the counts last changed; null before the first snapshot. */
  readonly updatedAt: number | null;
}

export type LeaderboardAction =
  | { readonly type: 'snapshotRequested' }
  | { readonly type: 'snapshot'; readonly reactions: readonly EmojiCount[]; readonly at: number }
  | { readonly type: 'update'; readonly reactions: readonly EmojiCount[]; readonly at: number };

export const initialLeaderboard: LeaderboardState = {
  rows: new Map(),
  versions: new Map(),
  pending: null,
  hasSnapshot: false,
  updatedAt: null,
};

/**
 * Applies entries with the version rule to copies of the maps; returns null if nothing changed
 * (so that the caller can keep the same state object and React skips the render).
 */
function applyEntries(
  rows: ReadonlyMap<string, EmojiCount>,
  versions: ReadonlyMap<string, number>,
  entries: readonly EmojiCount[],
): { rows: Map<string, EmojiCount>; versions: Map<string, number> } | null {
  let nextRows: Map<string, EmojiCount> | null = null;
  let nextVersions: Map<string, number> | null = null;
  for (const entry of entries) {
    const held = (nextVersions ?? versions).get(entry.emoji);
    if (held !== undefined && entry.version <= held) continue;
    nextRows ??= new Map(rows);
    nextVersions ??= new Map(versions);
    nextVersions.set(entry.emoji, entry.version);
    if (entry.count > 0) nextRows.set(entry.emoji, entry);
    else nextRows.delete(entry.emoji);
  }
  return nextRows && nextVersions ? { rows: nextRows, versions: nextVersions } : null;
}

export function leaderboardReducer(
  state: LeaderboardState,
  action: LeaderboardAction,
): LeaderboardState {
  switch (action.type) {
    case 'snapshotRequested':
      return { ...state, pending: [] };
    case 'snapshot': {
      // Wholesale: the snapshot is the server's truth, including lower versions than we hold
      // (a backend whose store was rebuilt starts counting versions again).
      const rows = new Map<string, EmojiCount>();
      const versions = new Map<string, number>();
      for (const entry of action.reactions) {
        versions.set(entry.emoji, Math.max(entry.version, versions.get(entry.emoji) ?? -1));
        if (entry.count > 0) rows.set(entry.emoji, entry);
      }
      const replayed = applyEntries(rows, versions, state.pending ?? []);
      return {
        rows: replayed?.rows ?? rows,
        versions: replayed?.versions ?? versions,
        pending: null,
        hasSnapshot: true,
        updatedAt: action.at,
      };
    }
    case 'update': {
      const pending = state.pending === null ? null : [...state.pending, ...action.reactions];
      const applied = applyEntries(state.rows, state.versions, action.reactions);
      if (applied === null) return pending === null ? state : { ...state, pending };
      return { ...state, ...applied, pending, updatedAt: action.at };
    }
  }
}

/** Rows in leaderboard order: highest count first, then by name so that ties do not jitter. */
export function rankRows(rows: ReadonlyMap<string, EmojiCount>): EmojiCount[] {
  return [...rows.values()].sort(
    (a, b) => b.count - a.count || (a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0),
  );
}

export function totalCount(rows: ReadonlyMap<string, EmojiCount>): number {
  let total = 0;
  for (const row of rows.values()) total += row.count;
  return total;
}
