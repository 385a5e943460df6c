/**
 * Glyph lookup for Slack reaction names. The table comes from the `virtual:emoji-table` module,
 * which the build generates from emoji-datasource (see `emoji-table.ts`), so the bundle carries
 * ~90 KB of names and glyphs rather than the package's 1.3 MB JSON.
 */
import table from 'virtual:emoji-table';
import type { EmojiTable } from './emoji-table.js';

interface Glyphs {
  readonly glyph: string;
  readonly tones: Readonly<Record<string, string>> | undefined;
}

export interface EmojiIndex {
  /** The glyph for a Slack reaction name, or null for a custom (workspace) emoji. */
  glyphFor(reaction: string): string | null;
}

/** `thumbsup::skin-tone-2::skin-tone-5` -> base `thumbsup`, tones ["2", "5"]. */
export function splitSkinTones(reaction: string): { base: string; tones: string[] } {
  const [base = '', ...rest] = reaction.split('::');
  const tones: string[] = [];
  for (const part of rest) {
    const match = /^skin-tone-(\d)$/.exec(part);
    if (match?.[1] === undefined) return { base: reaction, tones: [] };
    tones.push(match[1]);
  }
  return { base, tones };
}

export function createEmojiIndex(entries: EmojiTable): EmojiIndex {
  const byName = new Map<string, Glyphs>();
  for (const [names, glyph, tones] of entries) {
    const glyphs: Glyphs = { glyph, tones };
    for (const name of names.split(' ')) if (!byName.has(name)) byName.set(name, glyphs);
  }
  return {
    glyphFor(reaction) {
      const exact = byName.get(reaction);
      if (exact !== undefined) return exact.glyph;
      const { base, tones } = splitSkinTones(reaction);
      const found = byName.get(base);
      if (found === undefined) return null;
      if (tones.length === 0 || found.tones === undefined) return found.glyph;
      const key = tones.join('-');
      // Two-person emoji list both people's tones; one tone given means both share it.
      const [first] = tones;
      return (
        found.tones[key] ??
        (tones.length === 1 && first !== undefined
          ? found.tones[`${first}-${first}`]
          : undefined) ??
        found.glyph
      );
    },
  };
}

let shared: EmojiIndex | undefined;

/** The glyph for a Slack reaction name from the built-in table, or null for a custom emoji. */
export function emojiGlyph(reaction: string): string | null {
  shared ??= createEmojiIndex(table);
  return shared.glyphFor(reaction);
}
