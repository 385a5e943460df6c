// WCAG 2.x AA contrast of the dashboard's colour pairs, read from the stylesheet itself for both
// the light and the dark scheme, so that a palette edit that breaks AA fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';

const css = readFileSync(new URL('../src/styles.css', import.meta.url), 'utf8');

function variables(block: string): Record<string, string> {
  return Object.fromEntries(
    [...block.matchAll(/(--[\w-]+):\s*(#[0-9a-f]{3,6})\s*;/gi)].map((m) => [m[1]!, m[2]!]),
  );
}

const light = variables(/:root\s*\{([^}]*)\}/.exec(css)![1]!);
const dark = {
  ...light,
  ...variables(/@media \(prefers-color-scheme: dark\)\s*\{\s*:root\s*\{([^}]*)\}/.exec(css)![1]!),
};

function luminance(hex: string): number {
  const full = hex.length === 4 ? `#${[...hex.slice(1)].map((c) => c + c).join('')}` : hex;
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(full.slice(i, i + 2), 16) / 255;
    return c <= 0.040_45 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** [foreground, background] pairs of text the page draws. */
const TEXT_PAIRS = [
  ['--text', '--bg'],
  ['--text', '--surface'],
  ['--text', '--surface-2'],
  ['--muted', '--bg'],
  ['--muted', '--surface'],
  ['--muted', '--surface-2'],
  ['--accent', '--surface'],
  ['--accent', '--bg'],
  ['--accent', '--accent-soft'],
  ['--live-fg', '--live-bg'],
  ['--pending-fg', '--pending-bg'],
  ['--warn-fg', '--warn-bg'],
  ['--off-fg', '--off-bg'],
  ['--diff-fg', '--diff-bg'],
] as const;

describe.each([
  ['light', light],
  ['dark', dark],
])('the %s colour scheme', (_name, palette) => {
  it.each(TEXT_PAIRS)('%s on %s meets AA for text (4.5:1)', (fg, bg) => {
    expect(palette[fg]).toBeDefined();
    expect(palette[bg]).toBeDefined();
    expect(contrast(palette[fg]!, palette[bg]!)).toBeGreaterThanOrEqual(4.5);
  });

  it('draws a focus ring that stands out from the page (3:1)', () => {
    expect(contrast(palette['--focus']!, palette['--bg']!)).toBeGreaterThanOrEqual(3);
    expect(contrast(palette['--focus']!, palette['--surface']!)).toBeGreaterThanOrEqual(3);
  });
});

describe('the selected segment', () => {
  it('is readable in both schemes', () => {
    expect(contrast('#ffffff', light['--accent']!)).toBeGreaterThanOrEqual(4.5);
    expect(contrast('#12142a', dark['--accent']!)).toBeGreaterThanOrEqual(4.5);
  });

  it('is computed correctly (black on white is 21:1)', () => {
    expect(contrast('#000', '#fff')).toBeCloseTo(21, 5);
    expect(contrast('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
  });
});
