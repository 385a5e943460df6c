import { describe, expect, it } from '@jest/globals';
import type { ReactionState } from '@reactometer/shared';
import { compareStates } from '../src/compare-states.js';

describe('compareStates', () => {
  const base: ReactionState = {
    key: 'k',
    ref: { team: 'T', item: 'i', user: 'U', reaction: 'x' },
    baseEmoji: 'x',
    present: true,
    eventTs: '001700000000.000001',
    rev: 2,
    pending: null,
  };
  it('classifies every case', () => {
    expect(compareStates(base, base)).toBe('identical');
    expect(compareStates(base, { ...base, rev: 7 })).toBe('same-event');
    expect(compareStates(base, { ...base, eventTs: '001700000000.000002' })).toBe('target-newer');
    expect(compareStates({ ...base, eventTs: '001700000000.000002' }, base)).toBe('source-newer');
    expect(compareStates(base, { ...base, present: false })).toBe('conflict');
    expect(compareStates(base, null)).toBe('missing-on-target');
    expect(compareStates(null, base)).toBe('target-only');
  });
});
