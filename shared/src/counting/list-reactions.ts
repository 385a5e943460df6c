import type { EmojiCount, ReactionStore } from '../ports.js';

/**
 * Highest count first, then by name so that ties have a stable order; zero counts left out, and so
 * is a count of no emoji (stored before the edge refused skin-tone-only names), which no dashboard
 * could show: one bad record must not make every snapshot fail the contract's schema.
 */
export function sortCounts(counts: readonly EmojiCount[]): EmojiCount[] {
  return counts
    .filter((c) => c.count > 0 && c.emoji !== '')
    .sort((a, b) => b.count - a.count || (a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0));
}

/** The leaderboard served by `GET /reactions` and the WebSocket snapshot. */
export async function listReactions(
  store: Pick<ReactionStore, 'listCounts'>,
): Promise<EmojiCount[]> {
  return sortCounts(await store.listCounts());
}
