import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { compareCanonicalTs, compareEventTs, formatEventTs, parseEventTs } from '../src/index.js';

describe('event_ts', () => {
  it('parses seconds and micros exactly', () => {
    expect(parseEventTs('1360782804.083113')).toEqual({ seconds: 1360782804, micros: 83113 });
    expect(parseEventTs('1360782804.5')).toEqual({ seconds: 1360782804, micros: 500000 });
    expect(parseEventTs('1360782804')).toEqual({ seconds: 1360782804, micros: 0 });
  });

  it.each(['', 'abc', '1.2.3', '-1.5', '1.1234567', '1e9', ' 1.5', '1.'])('refuses %j', (raw) => {
    expect(parseEventTs(raw)).toBeNull();
  });

  it('distinguishes timestamps that a float would merge', () => {
    const a = parseEventTs('1700000000.000001')!;
    const b = parseEventTs('1700000000.000002')!;
    // As doubles these are 1 ulp apart at best; at larger seconds they collide.
    expect(compareEventTs(a, b)).toBeLessThan(0);
    const big1 = parseEventTs('999999999999.999998')!;
    const big2 = parseEventTs('999999999999.999999')!;
    expect(Number('999999999999.999998')).toBe(Number('999999999999.999999'));
    expect(compareEventTs(big1, big2)).toBeLessThan(0);
    expect(compareCanonicalTs(formatEventTs(big1), formatEventTs(big2))).toBeLessThan(0);
  });

  it('canonical strings sort exactly like the timestamps (property)', () => {
    const ts = fc.record({
      seconds: fc.integer({ min: 0, max: 999_999_999_999 }),
      micros: fc.integer({ min: 0, max: 999_999 }),
    });
    fc.assert(
      fc.property(ts, ts, (a, b) => {
        expect(Math.sign(compareCanonicalTs(formatEventTs(a), formatEventTs(b)))).toBe(
          Math.sign(compareEventTs(a, b)),
        );
        expect(parseEventTs(formatEventTs(a))).toEqual(a);
      }),
    );
  });
});
