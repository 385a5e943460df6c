import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { cleanup, render } from '@testing-library/react';
import { Leaderboard } from '../src/components/leaderboard.js';
import { count } from './support/fakes.js';

// jsdom has no layout and no Web Animations: give rows a position by index and record animate().
const animate = jest.fn<(keyframes: Keyframe[], options?: KeyframeAnimationOptions) => void>();
let reducedMotion = false;

beforeEach(() => {
  animate.mockClear();
  reducedMotion = false;
  Object.defineProperty(HTMLElement.prototype, 'offsetTop', {
    configurable: true,
    get(this: HTMLElement) {
      return this.parentElement ? [...this.parentElement.children].indexOf(this) * 50 : 0;
    },
  });
  Object.defineProperty(HTMLElement.prototype, 'animate', {
    configurable: true,
    writable: true,
    value: animate,
  });
  Object.defineProperty(window, 'matchMedia', {
    configurable: true,
    writable: true,
    value: (query: string) => ({
      matches: query.includes('reduce') && reducedMotion,
      addEventListener: () => {},
      removeEventListener: () => {},
    }),
  });
});

afterEach(() => {
  cleanup();
  delete (HTMLElement.prototype as { offsetTop?: number }).offsetTop;
  delete (HTMLElement.prototype as { animate?: unknown }).animate;
  delete (window as { matchMedia?: unknown }).matchMedia;
});

const before = [count('a', 3, 1), count('b', 2, 1), count('c', 1, 1)];
const after = [count('c', 4, 2), count('a', 3, 1), count('b', 2, 1)];

function movedRows(): Record<string, string> {
  return Object.fromEntries(
    animate.mock.contexts.flatMap((el, i) => {
      const frames = animate.mock.calls[i]![0];
      const key = (el as HTMLElement).dataset.flipKey;
      return key === undefined ? [] : [[key, String(frames[0]!.transform)]];
    }),
  );
}

describe('reordering', () => {
  it('slides each moved row from its old place to its new one (FLIP)', () => {
    const { rerender } = render(<Leaderboard rows={before} label="L" />);
    expect(movedRows()).toEqual({});
    rerender(<Leaderboard rows={after} label="L" />);
    // c went up two places, a and b down one each.
    expect(movedRows()).toEqual({
      c: 'translateY(100px)',
      a: 'translateY(-50px)',
      b: 'translateY(-50px)',
    });
  });

  it('does not animate when the user prefers reduced motion', () => {
    reducedMotion = true;
    const { rerender } = render(<Leaderboard rows={before} label="L" />);
    rerender(<Leaderboard rows={after} label="L" />);
    expect(animate).not.toHaveBeenCalled();
  });
});
