/**
 * Takes the README's screenshot, `docs/images/dashboard.png`: the production build, side by side,
 * against both deployments running locally (the droplet on FerretDB, the serverless stack under
 * serverless-offline) fed the same signed Slack traffic, in Debian's Chromium.
 *
 *   npx tsx web/scripts/screenshot.ts [--out docs/images/dashboard.png] [--view compare|single]
 *
 * It reuses the browser tests' harness (web/test/e2e/support/harness.ts).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildDashboard,
  configFor,
  connectionState,
  eventually,
  launchBrowser,
  REPO_ROOT,
  screenCounts,
  sendReaction,
  serveDashboard,
  startDroplets,
  startServerless,
  type Backend,
} from '../test/e2e/support/harness.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(REPO_ROOT, 'docs', 'images', 'dashboard.png') },
    view: { type: 'string', default: 'compare' },
  },
});

/** A skewed week of reactions: a few emoji dominate, with skin tones and custom emoji. */
const TRAFFIC: readonly (readonly [reaction: string, count: number])[] = [
  ['+1', 48],
  ['tada', 35],
  ['heart', 29],
  ['joy', 22],
  ['eyes', 18],
  ['rocket', 15],
  ['white_check_mark', 12],
  ['raised_hands::skin-tone-3', 10],
  ['partyparrot', 8],
  ['fire', 7],
  ['100', 6],
  ['pray::skin-tone-5', 4],
  ['shipit', 3],
  ['thinking_face', 2],
];

async function feed(backends: readonly Backend[]): Promise<void> {
  for (const [reaction, n] of TRAFFIC) {
    for (let i = 0; i < n; i++) {
      const options = {
        reaction,
        user: `U${String(i).padStart(4, '0')}`,
        message: `1700000${String(i % 7).padStart(3, '0')}.000100`,
      };
      await Promise.all(backends.map((b) => sendReaction(b, options)));
    }
  }
}

const out = path.resolve(values.out);
const view = values.view === 'single' ? 'single' : 'compare';
const [distDir, droplets, browser, serverless] = await Promise.all([
  buildDashboard(),
  startDroplets(),
  launchBrowser(),
  startServerless(),
]);
try {
  const droplet = await droplets.start('droplet');
  await feed([droplet, serverless]);
  const dashboard = await serveDashboard(distDir, configFor(droplet, serverless));
  try {
    const context = await browser.newContext({
      viewport: { width: 1360, height: 900 },
      deviceScaleFactor: 2,
      colorScheme: 'light',
      reducedMotion: 'reduce',
    });
    const page = await context.newPage();
    await page.goto(`${dashboard.url}?view=${view}&backend=droplet`);
    const panels =
      view === 'compare' ? (['droplet', 'serverless'] as const) : (['droplet'] as const);
    for (const id of panels) {
      await eventually(
        `${id} live`,
        () => connectionState(page, id),
        (s) => s === 'live',
      );
      await eventually(
        `${id} counts`,
        () => screenCounts(page, id),
        (c) => Object.keys(c).length === TRAFFIC.length,
      );
    }
    // Let "just now" settle and the entrance transitions finish.
    await page.waitForTimeout(500);
    const main = await page.locator('main').boundingBox();
    if (main === null) throw new Error('the page has no <main>');
    await mkdir(path.dirname(out), { recursive: true });
    // The footer lists this run's random local ports; the picture stops below the leaderboards.
    await page.screenshot({
      path: out,
      fullPage: true,
      clip: { x: 0, y: 0, width: 1360, height: Math.ceil(main.y + main.height + 24) },
      animations: 'disabled',
    });
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
    await context.close();
  } finally {
    await dashboard.close();
  }
} finally {
  await browser.close();
  await Promise.allSettled([droplets.close(), serverless.stop()]);
}
