import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's Chromium, which the browser tests drive through playwright-core. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for headless Chromium on a machine without a display or outside network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const EMOJI_FONT = '/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf';

/**
 * Installs Chromium with apt-get when it is missing (idempotent). Playwright's own browser
 * download cannot work here (no network but package registries), so Debian's package is used.
 */
export function ensureChromium(log: (line: string) => void = () => {}): string {
  // The colour emoji font is what makes glyphs render in screenshots; tests do not depend on it.
  if (existsSync(CHROMIUM_PATH) && existsSync(EMOJI_FONT)) return CHROMIUM_PATH;
  const apt = spawnSync('which', ['apt-get']);
  if (apt.status !== 0) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}. Install it (e.g. your package manager's "chromium"), or set CHROMIUM_PATH.`,
    );
  }
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  log('installing Chromium and an emoji font with apt-get (first run only)...');
  const run = (args: string[]) =>
    spawnSync(sudo[0] ?? (args[0] as string), sudo.length ? args : args.slice(1), {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  const update = run(['apt-get', 'update', '-qq']);
  const install =
    update.status === 0
      ? run(['apt-get', 'install', '-y', '-qq', 'chromium', 'fonts-noto-color-emoji'])
      : update;
  if (install.status !== 0 || !existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `installing Chromium failed (apt-get exited with ${install.status}); install the "chromium" package by hand or set CHROMIUM_PATH.`,
    );
  }
  return CHROMIUM_PATH;
}
