// "Sign in with Slack" end to end in Chromium, against a local OpenID Provider STANDING IN FOR
// slack.com (devkit's oidc-provider stand-in, Slack's issuer layout and claims): the dashboard
// offers the sign-in, the deployment runs the authorization code flow with PKCE, verifies the
// id_token against the stand-in's JWKS, requires the configured workspace, and hands the page a
// viewer token in the URL fragment, which the page moves to sessionStorage. A member of another
// workspace is refused. Both deployments serve the routes; both are signed in to here.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePorts } from '@reactometer/devkit';
import {
  startSlackOidcStandIn,
  type SlackOidcStandIn,
} from '@reactometer/devkit/slack-oidc-standin';
import {
  buildDashboard,
  connectionState,
  eventually,
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

const TEAM = 'TGOODTEAM';
const MEMBER = { id: 'UMEMBER01', teamId: TEAM, name: 'A member' };
const OUTSIDER = { id: 'UOUTSIDE1', teamId: 'TOTHERTEAM', name: 'Someone else' };
const CLIENT = { clientId: 'standin-client', clientSecret: 'standin-client-secret-0123456789' };
const TOKEN_SECRET = 'e2e-dashboard-token-secret-0123456789abcdef';

let standIn: SlackOidcStandIn;
let droplets: Droplets;
let droplet: DropletBackend;
let serverless: Backend & { stop(): Promise<void> };
let dashboard: DashboardServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

function accessEnv(httpPort: number): Record<string, string> {
  return {
    DASHBOARD_AUTH: 'slack',
    DASHBOARD_TOKEN_SECRET: TOKEN_SECRET,
    SLACK_CLIENT_ID: CLIENT.clientId,
    SLACK_CLIENT_SECRET: CLIENT.clientSecret,
    SLACK_TEAM_ID: TEAM,
    SLACK_REDIRECT_URI: `http://127.0.0.1:${httpPort}/auth/slack/callback`,
    SLACK_OIDC_ISSUER: standIn.issuer,
  };
}

beforeAll(async () => {
  const [dropletPort, serverlessPort] = await freePorts(2);
  standIn = await startSlackOidcStandIn({
    ...CLIENT,
    redirectUris: [dropletPort!, serverlessPort!].map(
      (p) => `http://127.0.0.1:${p}/auth/slack/callback`,
    ),
    users: [MEMBER, OUTSIDER],
  });
  const [distDir] = await Promise.all([
    buildDashboard(),
    startDroplets().then((started) => (droplets = started)),
    launchBrowser().then((launched) => (browser = launched)),
    startServerless({ env: accessEnv(serverlessPort!), httpPort: serverlessPort! }).then(
      (s) => (serverless = s),
    ),
  ]);
  droplet = await droplets.start('droplet', {
    ...accessEnv(dropletPort!),
    PORT: String(dropletPort),
  });
  dashboard = await serveDashboard(distDir, {
    backends: {
      droplet: { httpUrl: droplet.httpUrl, wsUrl: droplet.wsUrl, signIn: 'slack' },
      serverless: { httpUrl: serverless.httpUrl, wsUrl: serverless.wsUrl, signIn: 'slack' },
    },
  });
  await sendReaction(droplet, { reaction: 'signed-in', user: 'U1' });
  await sendReaction(serverless, { reaction: 'signed-in', user: 'U1' });
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(contexts.map((c) => c.close()));
  await browser?.close().catch(() => undefined);
  await dashboard?.close();
  await Promise.allSettled([droplets?.close(), serverless?.stop(), standIn?.stop()]);
}, 60_000);

async function freshPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  contexts.push(context);
  return context.newPage();
}

/** From the dashboard's access screen through the stand-in's login and consent pages. */
async function signIn(page: Page, backend: 'droplet' | 'serverless', user: string): Promise<void> {
  await page.goto(`${dashboard.url}?backend=${backend}`);
  await page.getByRole('heading', { name: 'This dashboard needs access' }).waitFor();
  await page.getByRole('link', { name: 'Sign in with Slack' }).click();
  // The stand-in's (oidc-provider's development) login page, then its consent page.
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

describe('Sign in with Slack (against the local OpenID Provider stand-in)', () => {
  it.each(['droplet', 'serverless'] as const)(
    '%s: a member of the workspace signs in and sees live counts; the token leaves the URL',
    async (backend) => {
      const page = await freshPage();
      await signIn(page, backend, MEMBER.id);
      await eventually(
        'the dashboard to be live',
        () => connectionState(page, backend),
        (s) => s === 'live',
        {
          timeoutMs: 30_000,
        },
      );
      const counts = await eventually(
        'the seeded count',
        () => screenCounts(page, backend),
        (c) => c['signed-in'] === 1,
      );
      expect(counts['signed-in']).toBe(1);
      expect(page.url()).not.toContain('token=');
      expect(page.url()).not.toContain('#');
      const stored = await page.evaluate(() => sessionStorage.getItem('reactometer.viewerToken'));
      expect(stored).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      await screenshot(page, `slack-sign-in-${backend}`);
      await page.context().close();
    },
    90_000,
  );

  it('refuses a member of another workspace with a clear message, and opens no socket', async () => {
    const page = await freshPage();
    await signIn(page, 'droplet', OUTSIDER.id);
    await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
    expect(await page.getByText('Your Slack workspace may not view this dashboard').count()).toBe(
      1,
    );
    expect(await page.evaluate(() => sessionStorage.getItem('reactometer.viewerToken'))).toBeNull();
    expect(page.url()).not.toContain('#');
    // The page never opened a dashboard socket (the signed-in pages above are closed).
    await eventually(
      'the droplet to hold no socket',
      () => droplet.openSockets(),
      (n) => n === 0,
    );
    await screenshot(page, 'slack-sign-in-refused');
  }, 90_000);
});
