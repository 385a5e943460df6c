import type { ReactionRef } from '../ports.js';

const SKIN_TONE = /::skin-tone-\d+$/;

/** The emoji a reaction counts toward: its name without a `::skin-tone-N` suffix. */
export function baseEmoji(reaction: string): string {
  return reaction.replace(SKIN_TONE, '');
}

export type ReactionItem =
  | { readonly type: 'message'; readonly channel: string; readonly ts: string }
  | { readonly type: 'file'; readonly file: string }
  | { readonly type: 'file_comment'; readonly file_comment: string };

/** A stable string for the reacted-to item: channel + message ts, or the file (comment) id. */
export function itemKey(item: ReactionItem): string {
  switch (item.type) {
    case 'message':
      return `message:${item.channel}:${item.ts}`;
    case 'file':
      return `file:${item.file}`;
    case 'file_comment':
      return `file_comment:${item.file_comment}`;
  }
}

/**
 * The store key of a reaction. Parts are URI-encoded so that no value can contain the separator
 * and two different refs can never share a key.
 */
export function reactionKey(ref: ReactionRef): string {
  return [ref.team, ref.item, ref.user, ref.reaction].map(encodeURIComponent).join('|');
}
