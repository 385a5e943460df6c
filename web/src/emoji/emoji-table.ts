/**
 * Slack names standard emoji with the iamcal emoji-data short names (`+1`, `tada`,
 * `thumbsup::skin-tone-3`). This module turns emoji-datasource's `emoji.json` (1.3 MB, every
 * vendor's metadata) into the small table the dashboard ships: short name -> glyph, plus the
 * skin-tone variants. It runs at build time (the Vite plugin in `vite.config.ts`) and in the tests;
 * it does no I/O so that both can feed it the same data.
 */

/** The fields of one `emoji.json` row that the table needs. */
export interface EmojiDatasourceRow {
  readonly unified: string;
  readonly short_names: readonly string[];
  readonly skin_variations?: Readonly<Record<string, { readonly unified: string }>>;
}

/**
 * One emoji: its short names (space separated, the first is canonical), its glyph, and its
 * skin-tone glyphs keyed by Slack tone numbers (`"3"`, or `"2-5"` for two-person emoji).
 */
export type EmojiTableEntry =
  | readonly [names: string, glyph: string]
  | readonly [names: string, glyph: string, tones: Readonly<Record<string, string>>];

export type EmojiTable = readonly EmojiTableEntry[];

/** `1F44D-1F3FB` -> the characters it names. */
export function glyphFromUnified(unified: string): string {
  return unified
    .split('-')
    .map((hex) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .join('');
}

/**
 * Tone modifiers by code point, read from the data itself: the rows whose short name is
 * `skin-tone-N` are the modifiers (U+1F3FB is skin-tone-2, ... U+1F3FF is skin-tone-6).
 */
function toneNumbers(rows: readonly EmojiDatasourceRow[]): Map<string, string> {
  const tones = new Map<string, string>();
  for (const row of rows) {
    for (const name of row.short_names) {
      const match = /^skin-tone-(\d)$/.exec(name);
      if (match?.[1] !== undefined) tones.set(row.unified.toUpperCase(), match[1]);
    }
  }
  return tones;
}

export function buildEmojiTable(rows: readonly EmojiDatasourceRow[]): EmojiTable {
  const tones = toneNumbers(rows);
  if (tones.size === 0)
    throw new Error('emoji data has no skin-tone-N rows; is it emoji-datasource?');
  return rows.map((row): EmojiTableEntry => {
    const names = row.short_names.join(' ');
    const glyph = glyphFromUnified(row.unified);
    if (row.skin_variations === undefined) return [names, glyph];
    const variants: Record<string, string> = {};
    for (const [key, variation] of Object.entries(row.skin_variations)) {
      const toneKey = key
        .split('-')
        .map((cp) => tones.get(cp.toUpperCase()))
        .join('-');
      if (toneKey.split('-').some((t) => t === 'undefined' || t === '')) continue;
      variants[toneKey] = glyphFromUnified(variation.unified);
    }
    return [names, glyph, variants];
  });
}
