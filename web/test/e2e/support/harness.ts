/**
 * What the dashboard's browser tests (and `web/scripts/screenshot.ts`) run against: the built
 * dashboard on a tiny static server, real deployments on free ports, and Debian's Chromium.
 *
 * - `buildDashboard()` runs `vite build` once into a temp folder named after a hash of its
 *   inputs, and reuses that build while nothing changed.
 * - `serveDashboard()` serves it with a generated `config.json`, as a deployment would.
 * - `startDroplets()` starts FerretDB and droplets in-process (`createDroplet`, the MongoDB store).
 * - `startServerless()` starts the local serverless stack (`startOfflineStack`).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  reactionEventPayload,
  signSlackBody,
  type ReactionEventSpec,
} from '@reactometer/shared/testing';
import { REPO_ROOT, TEST_SIGNING_SECRET, freePorts } from '@reactometer/devkit';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@reactometer/devkit/chromium';
import {
  dropletTestSettings,
  startInProcessDroplet,
  startTestDatabase,
  type InProcessDroplet,
  type TestDatabase,
} from '@reactometer/devkit/droplet';
import { startOfflineStack } from '@reactometer/devkit/offline';
import type { MongoReactionStore } from '@reactometer/legacy-server/mongo-reaction-store';
import type { RuntimeConfig } from '../../../src/config/runtime-config.js';

export const WEB_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export { REPO_ROOT };
export { eventually } from '@reactometer/shared/testing';
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts', 'e2e');
export const SIGNING_SECRET = TEST_SIGNING_SECRET;

// ---------------------------------------------------------------------------------------------
// The build

const BUILD_INPUTS = [
  'web/src',
  'web/public',
  'web/index.html',
  'web/vite.config.ts',
  'web/package.json',
  'shared/src/protocol',
  'package-lock.json',
];

function hashInputs(): string {
  const hash = createHash('sha256');
  const visit = (rel: string) => {
    const abs = path.join(REPO_ROOT, rel);
    if (!existsSync(abs)) return;
    if (statSync(abs).isDirectory()) {
      for (const entry of readdirSync(abs).sort()) visit(path.join(rel, entry));
      return;
    }
    hash.update(rel).update('\0').update(readFileSync(abs)).update('\0');
  };
  BUILD_INPUTS.forEach(visit);
  return hash.digest('hex').slice(0, 16);
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`)),
    );
  });
}

/** The production build of the dashboard; built at most once per change of its inputs. */
export async function buildDashboard(): Promise<string> {
  const cacheRoot = path.join(os.tmpdir(), 'reactometer-web-e2e');
  const outDir = path.join(cacheRoot, hashInputs());
  if (existsSync(path.join(outDir, 'index.html'))) return outDir;
  await mkdir(cacheRoot, { recursive: true });
  const staging = await mkdtemp(path.join(cacheRoot, 'building-'));
  const vite = path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  await run(
    process.execPath,
    [vite, 'build', '--outDir', staging, '--emptyOutDir', '--logLevel', 'warn'],
    WEB_ROOT,
  );
  try {
    await rename(staging, outDir);
  } catch (err) {
    // Another run finished the same build first; theirs is as good as ours.
    await rm(staging, { recursive: true, force: true });
    if (!existsSync(path.join(outDir, 'index.html'))) throw err;
  }
  return outDir;
}

// ---------------------------------------------------------------------------------------------
// The static server

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
};

export interface DashboardServer {
  readonly url: string;
  /** What `/config.json` answers from now on (a deployed build's operator editing the file). */
  setConfig(config: RuntimeConfig | string): void;
  close(): Promise<void>;
}

let dashboardPort: Promise<number> | undefined;

/**
 * The port the dashboard will be served on, chosen before the deployments start: they must list
 * its origin in ALLOWED_ORIGINS, or they refuse the page's WebSocket with 403.
 */
export function dashboardOrigin(): Promise<string> {
  dashboardPort ??= freePorts(1, '127.0.0.1').then(([port]) => port!);
  return dashboardPort.then((port) => `http://127.0.0.1:${port}`);
}

export async function serveDashboard(
  distDir: string,
  config: RuntimeConfig,
): Promise<DashboardServer> {
  let configBody = JSON.stringify(config);
  const root = path.resolve(distDir);
  const server = http.createServer((req, res) => {
    void (async () => {
      const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://static').pathname);
      if (pathname === '/config.json') {
        res.writeHead(200, { 'content-type': CONTENT_TYPES['.json'], 'cache-control': 'no-store' });
        res.end(configBody);
        return;
      }
      const file = path.resolve(
        root,
        `.${pathname.endsWith('/') ? `${pathname}index.html` : pathname}`,
      );
      if (!file.startsWith(`${root}${path.sep}`)) {
        res.writeHead(403).end();
        return;
      }
      try {
        const body = await readFile(file);
        res.writeHead(200, {
          'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
          'cache-control': 'no-store',
        });
        res.end(body);
      } catch {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      }
    })();
  });
  const origin = await dashboardOrigin();
  await new Promise<void>((resolve) =>
    server.listen(Number(new URL(origin).port), '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    setConfig(next) {
      configBody = typeof next === 'string' ? next : JSON.stringify(next);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// The deployments

export interface Backend {
  readonly name: string;
  readonly httpUrl: string;
  readonly wsUrl: string;
}

export interface DropletBackend extends Backend {
  readonly port: number;
  readonly store: MongoReactionStore;
  /** WebSockets the droplet holds open right now (its own count, not the page's). */
  openSockets(): number;
  /** Stops the droplet (WebSockets close with 1001); the store stays open. */
  stop(): Promise<void>;
  /** Starts a new droplet process on the same port and the same data. */
  restart(): Promise<void>;
  /**
   * Starts a second droplet on the same database (two droplets behind a load balancer), for
   * changes made while this one is down. Stop it when done.
   */
  sibling(): Promise<Backend & { stop(): Promise<void> }>;
}

async function startDropletOn(
  port: number,
  store: MongoReactionStore,
  env: Readonly<Record<string, string>> = {},
): Promise<InProcessDroplet> {
  return startInProcessDroplet({
    ...dropletTestSettings({
      PORT: String(port),
      SHUTDOWN_GRACE_MS: '500',
      ALLOWED_ORIGINS: await dashboardOrigin(),
      ...env,
    }),
    store,
  });
}

export interface Droplets {
  readonly db: TestDatabase;
  /** A droplet with a database of its own; `env` adds droplet variables (DASHBOARD_AUTH...). */
  start(name: string, env?: Readonly<Record<string, string>>): Promise<DropletBackend>;
  /** Stops every droplet and FerretDB, and removes the data. */
  close(): Promise<void>;
}

export async function startDroplets(): Promise<Droplets> {
  const db = await startTestDatabase();
  const cleanups: (() => Promise<void>)[] = [];

  const start = async (
    name: string,
    env: Readonly<Record<string, string>> = {},
  ): Promise<DropletBackend> => {
    const store = await db.openStore({ dbName: db.newDatabaseName() });
    let current = await startDropletOn(0, store, env);
    const { port } = current;
    const siblings: InProcessDroplet[] = [];
    cleanups.push(async () => {
      await Promise.all([current.stop(), ...siblings.map((s) => s.stop())]);
    });
    return {
      name,
      port,
      store,
      httpUrl: current.httpUrl,
      wsUrl: current.wsUrl,
      openSockets: () => current.droplet.broadcaster.size,
      stop: () => current.stop(),
      async restart() {
        await current.stop();
        current = await startDropletOn(port, store, env);
      },
      async sibling() {
        const other = await startDropletOn(0, store, env);
        siblings.push(other);
        return {
          name: `${name} (sibling)`,
          httpUrl: other.httpUrl,
          wsUrl: other.wsUrl,
          stop: () => other.stop(),
        };
      },
    };
  };

  return {
    db,
    start,
    async close() {
      await Promise.allSettled(cleanups.map((c) => c()));
      await db.cleanup();
    },
  };
}

/**
 * The serverless deployment as it runs locally: serverless-offline (API Gateway WebSocket + HTTP
 * APIs, Lambda), serverless-offline-sns and dynalite, on free ports.
 */
export async function startServerless(
  options: { readonly env?: Readonly<Record<string, string>>; readonly httpPort?: number } = {},
): Promise<Backend & { stop(): Promise<void> }> {
  const stack = await startOfflineStack({
    signingSecret: SIGNING_SECRET,
    env: { ALLOWED_ORIGINS: await dashboardOrigin(), ...options.env },
    ...(options.httpPort === undefined ? {} : { ports: { http: options.httpPort } }),
  });
  return {
    name: 'serverless',
    httpUrl: stack.httpUrl,
    wsUrl: stack.wsUrl,
    stop: () => stack.stop(),
  };
}

// ---------------------------------------------------------------------------------------------
// Slack traffic

let sequence = 0;
/** Strictly increasing Slack timestamps, so that every event is newer than the last. */
function nextEventTs(): string {
  sequence++;
  return `${Math.floor(Date.now() / 1000)}.${String(sequence).padStart(6, '0')}`;
}

export interface ReactionOptions {
  readonly type?: 'reaction_added' | 'reaction_removed';
  readonly reaction: string;
  readonly user: string;
  /** Which message; each (message, user, reaction) is one reaction in Slack's model. */
  readonly message?: string;
}

/** Sends one signed Events API delivery, as Slack would, and expects the 200. */
export async function sendReaction(backend: Backend, options: ReactionOptions): Promise<void> {
  const spec: ReactionEventSpec = {
    eventId: `Ev${Date.now().toString(36)}${(++sequence).toString(36)}`.toUpperCase(),
    type: options.type ?? 'reaction_added',
    user: options.user,
    reaction: options.reaction,
    eventTs: nextEventTs(),
    item: { type: 'message', channel: 'C0E2E', ts: options.message ?? '1700000000.000100' },
  };
  const signed = signSlackBody(
    SIGNING_SECRET,
    reactionEventPayload(spec),
    Math.floor(Date.now() / 1000),
  );
  const response = await fetch(`${backend.httpUrl}/slack/events`, {
    method: 'POST',
    headers: signed.headers,
    body: new Uint8Array(signed.body),
  });
  if (response.status !== 200) {
    throw new Error(
      `${backend.name}: POST /slack/events answered ${response.status}: ${await response.text()}`,
    );
  }
}

/** Adds `n` reactions of `reaction` from distinct users. */
export async function addReactions(
  backend: Backend,
  reaction: string,
  n: number,
  userPrefix = 'U',
): Promise<void> {
  for (let i = 0; i < n; i++)
    await sendReaction(backend, { reaction, user: `${userPrefix}${reaction}${i}` });
}

/** The deployment's own answer, for comparing with the screen. */
export async function fetchCounts(backend: Backend): Promise<Record<string, number>> {
  const response = await fetch(`${backend.httpUrl}/reactions`);
  const body = (await response.json()) as { reactions: { emoji: string; count: number }[] };
  return Object.fromEntries(body.reactions.map((r) => [r.emoji, r.count]));
}

// ---------------------------------------------------------------------------------------------
// The browser

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** Counts shown by a deployment's panel, read from the DOM: `{ '+1': 3, ... }`. */
export async function screenCounts(
  page: Page,
  backend: 'droplet' | 'serverless',
): Promise<Record<string, number>> {
  return page.evaluate((id) => {
    const rows = document.querySelectorAll<HTMLElement>(
      `section[data-backend="${id}"] li[data-emoji]`,
    );
    return Object.fromEntries(
      [...rows].map((row) => [
        row.dataset.emoji ?? '',
        Number((row.querySelector('.row-count')?.firstChild?.textContent ?? '').replace(/,/g, '')),
      ]),
    );
  }, backend);
}

export async function connectionState(
  page: Page,
  backend: 'droplet' | 'serverless',
): Promise<string | null> {
  return page
    .locator(`section[data-backend="${backend}"] [data-connection-state]`)
    .getAttribute('data-connection-state', { timeout: 1_000 })
    .catch(() => null);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}

export function configFor(droplet: Backend, serverless: Backend): RuntimeConfig {
  return {
    backends: {
      droplet: { httpUrl: droplet.httpUrl, wsUrl: droplet.wsUrl },
      serverless: { httpUrl: serverless.httpUrl, wsUrl: serverless.wsUrl },
    },
  };
}
