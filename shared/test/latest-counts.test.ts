import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { LatestCounts, type EmojiCount } from '../src/index.js';

const count = (emoji: string, n: number, version: number): EmojiCount => ({
  emoji,
  count: n,
  version,
});

describe('LatestCounts', () => {
  it('keeps the highest version of each emoji and forgets on take', () => {
    const latest = new LatestCounts();
    expect(latest.add([count('tada', 1, 1), count('+1', 3, 7)])).toBe(true);
    expect(latest.add([count('tada', 0, 2)])).toBe(true);
    expect(latest.add([count('tada', 1, 1)])).toBe(false);
    expect(latest.size).toBe(2);
    expect(latest.take().sort((a, b) => a.emoji.localeCompare(b.emoji))).toEqual([
      count('+1', 3, 7),
      count('tada', 0, 2),
    ]);
    expect(latest.size).toBe(0);
  });

  it('handles emoji named after Object.prototype members', () => {
    const latest = new LatestCounts();
    latest.add([count('constructor', 1, 1), count('__proto__', 2, 1)]);
    expect(latest.take()).toHaveLength(2);
  });

  it('whatever the arrival order, ends with the newest count of each emoji', () => {
    const arb = fc.array(
      fc.record({
        emoji: fc.constantFrom('a', 'b', 'c'),
        count: fc.nat(50),
        version: fc.integer({ min: 1, max: 1000 }),
      }),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(arb, (updates) => {
        // Versions are unique per emoji in the real system; keep the first of each.
        const unique = updates.filter(
          (u, i) => updates.findIndex((v) => v.emoji === u.emoji && v.version === u.version) === i,
        );
        const latest = new LatestCounts();
        for (const u of unique) latest.add([u]);
        const expected = new Map<string, EmojiCount>();
        for (const u of unique) {
          const held = expected.get(u.emoji);
          if (!held || u.version > held.version) expected.set(u.emoji, u);
        }
        const got = new Map(latest.take().map((c) => [c.emoji, c]));
        expect(got).toEqual(expected);
      }),
    );
  });
});
