import { describe, expect, it } from '@jest/globals';
import { createEmojiIndex, emojiGlyph, splitSkinTones } from '../src/emoji/emoji-glyph.js';
import { buildEmojiTable, glyphFromUnified } from '../src/emoji/emoji-table.js';
import table from './support/emoji-table.js';

describe('the emoji table from emoji-datasource', () => {
  it('maps Slack short names and their aliases to glyphs', () => {
    expect(emojiGlyph('+1')).toBe('👍');
    expect(emojiGlyph('thumbsup')).toBe('👍');
    expect(emojiGlyph('-1')).toBe('👎');
    expect(emojiGlyph('tada')).toBe('🎉');
    expect(emojiGlyph('heart')).toBe('❤️');
    expect(emojiGlyph('joy')).toBe('😂');
    expect(emojiGlyph('white_check_mark')).toBe('✅');
    expect(emojiGlyph('eyes')).toBe('👀');
  });

  it('maps skin-tone variants, whatever the base name', () => {
    expect(emojiGlyph('+1::skin-tone-2')).toBe('👍🏻');
    expect(emojiGlyph('thumbsup::skin-tone-6')).toBe('👍🏿');
    expect(emojiGlyph('wave::skin-tone-4')).toBe('👋🏽');
    // Two-person emoji: one tone for both, or one per person.
    expect(emojiGlyph('handshake::skin-tone-3')).toBe('🤝🏼');
    expect(emojiGlyph('handshake::skin-tone-2::skin-tone-5')).toBe('🫱🏻‍🫲🏾');
    // A tone on an emoji without variants shows the base glyph.
    expect(emojiGlyph('tada::skin-tone-3')).toBe('🎉');
  });

  it('has no glyph for custom emoji', () => {
    expect(emojiGlyph('partyparrot')).toBeNull();
    expect(emojiGlyph('partyparrot::skin-tone-2')).toBeNull();
    expect(emojiGlyph('')).toBeNull();
  });

  it('covers every short name in the data (no hand-written table)', () => {
    const names = table.flatMap(([n]) => n.split(' '));
    expect(names.length).toBeGreaterThan(1_900);
    expect(new Set(names).size).toBe(names.length);
  });

  it('is built from the data, not from a list in the code', () => {
    const rows = [
      { unified: '1F3FB', short_names: ['skin-tone-2'] },
      {
        unified: '1F596',
        short_names: ['spock-hand'],
        skin_variations: { '1F3FB': { unified: '1F596-1F3FB' } },
      },
      { unified: '1F600', short_names: ['grinning'] },
    ];
    const index = createEmojiIndex(buildEmojiTable(rows));
    expect(index.glyphFor('spock-hand')).toBe('🖖');
    expect(index.glyphFor('spock-hand::skin-tone-2')).toBe('🖖🏻');
    expect(index.glyphFor('grinning')).toBe('😀');
    expect(index.glyphFor('smile')).toBeNull();
    expect(() => buildEmojiTable([{ unified: '1F600', short_names: ['grinning'] }])).toThrow(
      /skin-tone/,
    );
  });

  it('splits skin-tone suffixes', () => {
    expect(splitSkinTones('wave::skin-tone-2')).toEqual({ base: 'wave', tones: ['2'] });
    expect(splitSkinTones('wave')).toEqual({ base: 'wave', tones: [] });
    expect(splitSkinTones('odd::thing')).toEqual({ base: 'odd::thing', tones: [] });
    expect(glyphFromUnified('1F1EB-1F1F7')).toBe('🇫🇷');
  });
});
