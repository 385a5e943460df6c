/**
 * `npm start`: the whole system with embedded defaults — the droplet with its FerretDB, the local
 * serverless stack (dynalite + serverless-offline + local SNS), the dashboard, and a Slack traffic
 * generator feeding the same event stream to both deployments — then prints the URLs. Ctrl-C
 * stops everything: each part runs in its own process group, which is signalled as a whole.
 *
 * Env: PORT (droplet, 3000), OFFLINE_HTTP_PORT/OFFLINE_WS_PORT/OFFLINE_SNS_PORT/OFFLINE_LAMBDA_PORT
 * (4000-4003), DYNALITE_PORT (4567), WEB_PORT (5173), TRAFFIC_RATE (events/s, 2; 0 = no traffic),
 * SLACK_SIGNING_SECRET (default: the dev secret), VERBOSE=1 (every part's log on this terminal
 * instead of in .data/logs/<part>.log).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isPortOpen } from './lib/free-port.js';
import { DATA_DIR, REPO_ROOT } from './lib/paths.js';
import { ensureFerretDbBinary } from './lib/ferretdb.js';

const DEV_SECRET = 'reactometer-dev-signing-secret';
const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`[start] ${name}: must be a non-negative number (got "${raw}")`);
    process.exit(2);
  }
  return n;
};

const ports = {
  droplet: num('PORT', 3000),
  http: num('OFFLINE_HTTP_PORT', 4000),
  ws: num('OFFLINE_WS_PORT', 4001),
  sns: num('OFFLINE_SNS_PORT', 4002),
  lambda: num('OFFLINE_LAMBDA_PORT', 4003),
  dynalite: num('DYNALITE_PORT', 4567),
  web: num('WEB_PORT', 5173),
};
const trafficRate = num('TRAFFIC_RATE', 2);
const secret = process.env.SLACK_SIGNING_SECRET || DEV_SECRET;
const dropletUrl = `http://localhost:${ports.droplet}`;
const serverlessUrl = `http://localhost:${ports.http}`;

const required: [string, number, string][] = [
  ['droplet HTTP + WebSocket', ports.droplet, 'PORT'],
  ['serverless-offline HTTP API', ports.http, 'OFFLINE_HTTP_PORT'],
  ['serverless-offline WebSocket', ports.ws, 'OFFLINE_WS_PORT'],
  ['local SNS', ports.sns, 'OFFLINE_SNS_PORT'],
  ['serverless-offline Lambda', ports.lambda, 'OFFLINE_LAMBDA_PORT'],
  ['dynalite', ports.dynalite, 'DYNALITE_PORT'],
  ['dashboard', ports.web, 'WEB_PORT'],
];

const verbose = process.env.VERBOSE === '1';
const LOG_DIR = path.join(DATA_DIR, 'logs');
const logFile = (name: string) => path.join(LOG_DIR, `${name}.log`);

const children: { name: string; child: ChildProcess }[] = [];
let stopping = false;

function run(name: string, args: string[]): ChildProcess {
  // Every request is logged by both deployments: in a file, the URLs below stay readable.
  const out = verbose ? 'inherit' : openSync(logFile(name), 'w');
  const child = spawn('npm', args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', out, out],
    detached: true,
    env: {
      ...process.env,
      SLACK_SIGNING_SECRET: secret,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  children.push({ name, child });
  child.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${name} exited (${signal ?? code}); stopping everything`);
      if (!verbose) console.error(tail(logFile(name)));
      void stopAll(1);
    }
  });
  return child;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('[start] stopping...');
  // Traffic and dashboard first, then the deployments (which drain their in-flight requests).
  for (const { child } of [...children].reverse()) signalGroup(child, 'SIGTERM');
  const exited = children.map(({ child }) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((r) => child.once('exit', r)),
  );
  const timer = setTimeout(() => {
    for (const { child } of children) signalGroup(child, 'SIGKILL');
  }, 15_000);
  await Promise.all(exited);
  clearTimeout(timer);
  process.exit(code);
}

function tail(file: string, lines = 15): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
    return `--- last lines of ${path.relative(REPO_ROOT, file)} ---\n${text.join('\n')}`;
  } catch {
    return '';
  }
}

async function waitHealthy(url: string, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} did not become healthy at ${url}/healthz within ${timeoutMs / 1000} s`);
}

async function main(): Promise<void> {
  const busy: string[] = [];
  for (const [what, port, variable] of required) {
    if (await isPortOpen(port))
      busy.push(
        `  port ${port} (${what}) is in use: stop what holds it, or set ${variable}=<another port>`,
      );
  }
  if (busy.length > 0) {
    console.error(`[start] cannot start:\n${busy.join('\n')}`);
    process.exit(1);
  }
  ensureFerretDbBinary((line) => console.log(`[start] ${line}`));
  mkdirSync(LOG_DIR, { recursive: true });
  console.log(
    `[start] starting the droplet, the serverless stack and the dashboard${verbose ? '' : ` (logs: ${path.relative(REPO_ROOT, LOG_DIR)}/)`}...`,
  );
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  process.on('SIGHUP', () => void stopAll(0));
  // `npm start` killed by a supervisor (not Ctrl-C) does not pass the signal on: when the parent
  // is gone, the parts, each in its own process group, would run on. Stop with it.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stopAll(0);
  }, 1000).unref();

  run('droplet', ['run', 'legacy']);
  run('serverless', ['run', 'serverless']);
  run('dashboard', ['run', 'dev', '-w', 'web', '--', '--port', String(ports.web), '--strictPort']);

  await Promise.all([
    waitHealthy(dropletUrl, 'the droplet', 180_000),
    waitHealthy(serverlessUrl, 'the serverless stack', 180_000),
  ]);
  if (stopping) return;
  if (trafficRate > 0) {
    run('traffic', [
      'run',
      'traffic',
      '--',
      '--targets',
      `${dropletUrl},${serverlessUrl}`,
      '--rate',
      String(trafficRate),
      '--quiet',
    ]);
  }
  const line = '-'.repeat(72);
  console.log(`\n${line}
reactometer is running

  dashboard            http://localhost:${ports.web}/   (?view=compare for side by side)
  droplet              ${dropletUrl}   ws://localhost:${ports.droplet}/ws
  serverless (offline) ${serverlessUrl}   ws://localhost:${ports.ws}
  Slack signing secret ${secret === DEV_SECRET ? `${DEV_SECRET} (development default)` : '(from SLACK_SIGNING_SECRET)'}
  traffic              ${trafficRate > 0 ? `${trafficRate} signed Slack events/s to both deployments` : 'off (TRAFFIC_RATE=0)'}

${verbose ? '' : `  logs                 ${path.relative(REPO_ROOT, LOG_DIR)}/{droplet,serverless,dashboard,traffic}.log\n`}
Ctrl-C stops everything.
${line}\n`);
}

main().catch((err: unknown) => {
  console.error(`[start] ${(err as Error).message}`);
  void stopAll(1);
});
