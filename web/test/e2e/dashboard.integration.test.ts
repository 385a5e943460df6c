// The dashboard in a real browser (Debian's Chromium through playwright-core) against both real
// deployments running locally: the production build served with a generated config.json, the
// droplet in-process on FerretDB, the serverless stack under serverless-offline with dynalite,
// and Slack events signed and POSTed as Slack sends them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  addReactions,
  buildDashboard,
  configFor,
  connectionState,
  eventually,
  fetchCounts,
  launchBrowser,
  screenCounts,
  screenshot,
  sendReaction,
  serveDashboard,
  startDroplets,
  startServerless,
  type Backend,
  type DashboardServer,
  type DropletBackend,
  type Droplets,
} from './support/harness.js';

const SETUP_TIMEOUT_MS = 180_000;

let droplets: Droplets;
let droplet: DropletBackend;
let serverless: Backend & { stop(): Promise<void> };
let dashboard: DashboardServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  // Started together; each is assigned as soon as it is up, so that afterAll stops whatever did
  // start when another part fails (a leaked server would keep Jest from exiting).
  const [distDir] = await Promise.all([
    buildDashboard(),
    startDroplets().then((started) => (droplets = started)),
    launchBrowser().then((launched) => (browser = launched)),
    startServerless().then((stack) => (serverless = stack)),
  ]);
  droplet = await droplets.start('droplet');
  dashboard = await serveDashboard(distDir, configFor(droplet, serverless));

  await addReactions(droplet, '+1', 3);
  await addReactions(droplet, 'tada', 2);
  await addReactions(droplet, 'partyparrot', 1);
  await addReactions(serverless, 'rocket', 4);
  await addReactions(serverless, '+1', 1);

  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await dashboard?.close();
  await Promise.allSettled([droplets?.close(), serverless?.stop()]);
}, 60_000);

describe('the dashboard in a browser', () => {
  it('loads and shows the current counts', async () => {
    await page.goto(`${dashboard.url}?backend=droplet`);
    await eventually(
      'the droplet to be live',
      () => connectionState(page, 'droplet'),
      (s) => s === 'live',
    );
    const shown = await eventually(
      'the seeded counts',
      () => screenCounts(page, 'droplet'),
      (c) => Object.keys(c).length === 3,
    );
    expect(shown).toEqual({ '+1': 3, tada: 2, partyparrot: 1 });
    expect(shown).toEqual(await fetchCounts(droplet));
    // Order, glyphs, custom emoji, total.
    const rows = await page
      .locator('section[data-backend="droplet"] li[data-emoji]')
      .allTextContents();
    expect(rows).toEqual([
      expect.stringMatching(/^1👍:\+1:3 reactions$/),
      expect.stringMatching(/^2🎉:tada:2 reactions$/),
      expect.stringMatching(/^3P:partyparrot:custom1 reaction$/),
    ]);
    expect(await page.getByTestId('total').textContent()).toBe('6');
    await screenshot(page, '01-loaded');
  });

  it('shows a signed Slack event on screen without a reload', async () => {
    // Survives only if the page is not reloaded.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await addReactions(droplet, 'tada', 2, 'Ulive');
    await eventually(
      'tada to reach 4 and lead',
      () => screenCounts(page, 'droplet'),
      (c) => c.tada === 4,
    );
    const order = await page
      .locator('section[data-backend="droplet"] li[data-emoji]')
      .evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.emoji));
    expect(order).toEqual(['tada', '+1', 'partyparrot']);

    await sendReaction(droplet, {
      type: 'reaction_removed',
      reaction: 'partyparrot',
      user: 'Upartyparrot0',
    });
    const shown = await eventually(
      'partyparrot to disappear',
      () => screenCounts(page, 'droplet'),
      (c) => !('partyparrot' in c),
    );
    expect(shown).toEqual({ tada: 4, '+1': 3 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    expect(await page.getByTestId('total').textContent()).toBe('7');
    await screenshot(page, '02-live-update');
  });

  it('shows that it is reconnecting while the backend is down, then recovers with the right counts', async () => {
    await droplet.stop();
    await eventually(
      'the reconnecting state',
      () => connectionState(page, 'droplet'),
      (s) => s === 'reconnecting',
    );
    await expect(page.getByText('Reconnecting', { exact: true }).isVisible()).resolves.toBe(true);
    await screenshot(page, '03-reconnecting');

    // While this droplet is down, another one on the same database takes Slack's events.
    const sibling = await droplet.sibling();
    await addReactions(sibling, 'eyes', 2, 'Uaway');
    await sendReaction(sibling, { type: 'reaction_removed', reaction: 'tada', user: 'Ulivetada0' });
    await sibling.stop();

    await droplet.restart();
    // The backoff is capped at 30 s; with full jitter the next attempt comes sooner.
    await eventually(
      'live again',
      () => connectionState(page, 'droplet'),
      (s) => s === 'live',
      { timeoutMs: 40_000 },
    );
    const shown = await eventually(
      'the counts changed while away',
      () => screenCounts(page, 'droplet'),
      (c) => c.eyes === 2,
    );
    expect(shown).toEqual({ tada: 3, '+1': 3, eyes: 2 });
    expect(shown).toEqual(await fetchCounts(droplet));
    // And it is live for real: a new event still arrives.
    await sendReaction(droplet, { reaction: 'eyes', user: 'Uafter' });
    await eventually(
      'eyes to reach 3',
      () => screenCounts(page, 'droplet'),
      (c) => c.eyes === 3,
    );
    await screenshot(page, '04-recovered');
  }, 90_000);

  it("switches backends and shows the other deployment's counts, remembering the choice", async () => {
    await page.getByRole('radio', { name: 'Serverless' }).check();
    await eventually(
      'the serverless panel to be live',
      () => connectionState(page, 'serverless'),
      (s) => s === 'live',
    );
    const shown = await eventually(
      'the serverless counts',
      () => screenCounts(page, 'serverless'),
      (c) => Object.keys(c).length > 0,
    );
    expect(shown).toEqual({ rocket: 4, '+1': 1 });
    expect(shown).toEqual(await fetchCounts(serverless));
    expect(await page.locator('section[data-backend="droplet"]').count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('backend')).toBe('serverless');
    // Live here too: SNS -> fan-out Lambda -> PostToConnection reaches the page.
    await addReactions(serverless, 'tada', 1, 'Usls');
    await eventually(
      'tada from serverless',
      () => screenCounts(page, 'serverless'),
      (c) => c.tada === 1,
    );
    await screenshot(page, '05-switched');

    // Remembered: a plain visit (no query string) opens on Serverless.
    await page.goto(dashboard.url);
    await eventually(
      'serverless after reload',
      () => connectionState(page, 'serverless'),
      (s) => s === 'live',
    );
    expect(await page.getByRole('radio', { name: 'Serverless' }).isChecked()).toBe(true);
  });

  it('shows both deployments side by side and marks where their counts differ', async () => {
    await page.getByRole('radio', { name: 'Side by side' }).check();
    await eventually(
      'both panels live',
      async () => [
        await connectionState(page, 'droplet'),
        await connectionState(page, 'serverless'),
      ],
      (s) => s[0] === 'live' && s[1] === 'live',
    );
    const agreement = await eventually(
      'the comparison',
      () => page.getByTestId('agreement').textContent(),
      (t) => t?.startsWith('Counts differ') ?? false,
    );
    expect(agreement).toContain('Counts differ for 4 emoji');
    // Serverless answers a snapshot from its warm container's copy (up to COUNTS_CACHE_MS old)
    // and the dashboard asks again after refreshAfterMs: the marks settle within a second or two.
    const readMarks = () =>
      page
        .locator('section[data-backend="droplet"] li[data-emoji]')
        .evaluateAll((lis) =>
          Object.fromEntries(
            lis.map((li) => [
              (li as HTMLElement).dataset.emoji,
              li.querySelector('.row-diff [aria-hidden]')?.textContent ?? null,
            ]),
          ),
        );
    const expected = { tada: '≠ 1', '+1': '≠ 1', eyes: '≠ 0' };
    const marks = await eventually('the marks', readMarks, (m) =>
      Object.keys(expected).every((k) => m[k] === expected[k as keyof typeof expected]),
    );
    expect(marks).toEqual(expected);
    await screenshot(page, '06-side-by-side');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, '06-side-by-side-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('works on a phone-sized screen', async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    try {
      const mobile = await phone.newPage();
      await mobile.goto(`${dashboard.url}?backend=droplet&view=single`);
      await eventually(
        'live on a phone',
        () => connectionState(mobile, 'droplet'),
        (s) => s === 'live',
      );
      await eventually(
        'counts on a phone',
        () => screenCounts(mobile, 'droplet'),
        (c) => c.tada === 3,
      );
      // Nothing wider than the screen: no sideways scrolling.
      const overflow = await mobile.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      expect(overflow).toBeLessThanOrEqual(0);
      await screenshot(mobile, '07-phone');
    } finally {
      await phone.close();
    }
  });

  it('closes its socket while the tab stays hidden, and shows the right counts when it is shown again', async () => {
    // Headless Chromium keeps every page "visible", so the page is told it is hidden the way a
    // browser tells it: document.visibilityState and a visibilitychange event.
    const setHidden = (p: Page, hidden: boolean) =>
      p.evaluate((h) => {
        Object.defineProperty(document, 'visibilityState', {
          configurable: true,
          get: () => (h ? 'hidden' : 'visible'),
        });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    dashboard.setConfig({ ...configFor(droplet, serverless), hiddenTabCloseSeconds: 1 });
    const tab = await context.newPage();
    try {
      tab.on('pageerror', (err) => pageErrors.push(err.message));
      await tab.goto(`${dashboard.url}?backend=droplet`);
      await eventually(
        'the tab to be live',
        () => connectionState(tab, 'droplet'),
        (x) => x === 'live',
      );
      const withTab = droplet.openSockets();
      expect(withTab).toBeGreaterThanOrEqual(1);

      await setHidden(tab, true);
      await eventually(
        'the hidden tab to pause',
        () => connectionState(tab, 'droplet'),
        (x) => x === 'paused',
      );
      // The droplet sees the socket go: a hidden dashboard costs no connection.
      await eventually(
        'the droplet to drop the socket',
        () => droplet.openSockets(),
        (n) => n === withTab - 1,
      );

      // Counts change while nobody looks; showing the tab brings them back from a fresh snapshot.
      const eyesBefore = (await fetchCounts(droplet)).eyes ?? 0;
      await sendReaction(droplet, { reaction: 'eyes', user: 'Uhidden1' });
      await sendReaction(droplet, { reaction: 'eyes', user: 'Uhidden2' });
      await setHidden(tab, false);
      await eventually(
        'live again',
        () => connectionState(tab, 'droplet'),
        (x) => x === 'live',
      );
      const shown = await eventually(
        'the counts changed while hidden',
        () => screenCounts(tab, 'droplet'),
        // A 200 means stored; the droplet counts it a moment later, and its counts push the rest.
        (c) => c.eyes === eyesBefore + 2,
      );
      expect(shown).toEqual(await fetchCounts(droplet));
      await screenshot(tab, '08-hidden-tab-back');
    } finally {
      await tab.close();
      dashboard.setConfig(configFor(droplet, serverless));
    }
  });

  it('threw no errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
