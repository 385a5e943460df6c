/**
 * `npm start`: the whole system with embedded defaults — the droplet (its build) with its FerretDB
 * on PostgreSQL, the local
 * serverless stack (dynalite + serverless-offline + local SNS), the dashboard, and a Slack traffic
 * generator feeding the same event stream to both deployments — then prints the URLs. Ctrl-C
 * stops everything: each part runs in its own process group, which is signalled as a whole.
 */
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createCommand, CliError, EXIT, runCli } from '@reactometer/cli';
import { localSigningSecret } from '../dev-secret.js';
import { ensureDropletBuild } from '../droplet/droplet-build.js';
import { ensureFerretDbBinary } from '../ferretdb.js';
import { ensurePostgres } from '../postgres.js';
import { spawnManaged, type ManagedProcess } from '../managed-process.js';
import { DATA_DIR, REPO_ROOT } from '../paths.js';
import { isPortOpen } from '../ports.js';

const ENVIRONMENT = `
Environment (all optional):
  PORT                  droplet HTTP + WebSocket (3000)
  OFFLINE_HTTP_PORT     serverless-offline HTTP API (4000)
  OFFLINE_WS_PORT       serverless-offline WebSocket (4001)
  OFFLINE_SNS_PORT      local SNS (4002)
  OFFLINE_LAMBDA_PORT   serverless-offline Lambda (4003)
  DYNALITE_PORT         dynalite (4567)
  WEB_PORT              dashboard (5173)
  TRAFFIC_RATE          signed Slack events per second to both deployments (2; 0 = none)
  SLACK_SIGNING_SECRET  default: the dev secret, printed at start
  VERBOSE=1             every part's log on this terminal instead of .data/logs/<part>.log`;

const LOG_DIR = path.join(DATA_DIR, 'logs');
const logFile = (name: string): string => path.join(LOG_DIR, `${name}.log`);

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    throw new CliError(`${name}: must be a non-negative number (got "${raw}")`, EXIT.usage);
  }
  return n;
}

function tail(file: string, lines = 15): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
    return `--- last lines of ${path.relative(REPO_ROOT, file)} ---\n${text.join('\n')}`;
  } catch {
    return '';
  }
}

async function waitHealthy(
  url: string,
  what: string,
  timeoutMs: number,
  stopped: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopped()) return;
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

async function main(): Promise<number> {
  const ports = {
    droplet: numberFromEnv('PORT', 3000),
    http: numberFromEnv('OFFLINE_HTTP_PORT', 4000),
    ws: numberFromEnv('OFFLINE_WS_PORT', 4001),
    sns: numberFromEnv('OFFLINE_SNS_PORT', 4002),
    lambda: numberFromEnv('OFFLINE_LAMBDA_PORT', 4003),
    dynalite: numberFromEnv('DYNALITE_PORT', 4567),
    web: numberFromEnv('WEB_PORT', 5173),
  };
  const trafficRate = numberFromEnv('TRAFFIC_RATE', 2);
  const verbose = process.env.VERBOSE === '1';
  const { secret, isDev } = localSigningSecret();
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
  const busy: string[] = [];
  for (const [what, port, variable] of required) {
    if (await isPortOpen(port))
      busy.push(`port ${port} (${what}) is in use: stop what holds it, or set ${variable}`);
  }
  if (busy.length > 0) throw new CliError(`cannot start: ${busy.join('; ')}`);

  const say = (line: string): void => console.log(`[start] ${line}`);
  ensureFerretDbBinary(say);
  if (process.env.FERRETDB_BACKEND !== 'sqlite') ensurePostgres(say);
  ensureDropletBuild();
  mkdirSync(LOG_DIR, { recursive: true });
  console.log(
    `[start] starting the droplet, the serverless stack and the dashboard${verbose ? '' : ` (logs: ${path.relative(REPO_ROOT, LOG_DIR)}/)`}...`,
  );

  const parts: { name: string; process: ManagedProcess }[] = [];
  let stopping = false;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });

  const stopAll = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log('[start] stopping...');
    // Traffic and dashboard first, then the deployments (which drain their in-flight requests).
    await Promise.all([...parts].reverse().map((part) => part.process.stop({ graceMs: 15_000 })));
    finish(code);
  };

  const run = (name: string, args: string[]): void => {
    // Every request is logged by both deployments: in a file, the URLs below stay readable.
    const out = verbose ? 'inherit' : openSync(logFile(name), 'w');
    const proc = spawnManaged('npm', args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        SLACK_SIGNING_SECRET: secret,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    parts.push({ name, process: proc });
    void proc.exited.then(({ code, signal }) => {
      if (stopping) return;
      console.error(`[start] ${name} exited (${signal ?? code}); stopping everything`);
      if (!verbose) console.error(tail(logFile(name)));
      void stopAll(1);
    });
  };

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => void stopAll(0));
  // `npm start` killed by a supervisor (not Ctrl-C) does not pass the signal on: when the parent
  // is gone, the parts, each in its own process group, would run on. Stop with it.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stopAll(0);
  }, 1000).unref();

  run('droplet', ['run', 'legacy']);
  run('serverless', ['run', 'serverless']);
  run('dashboard', ['run', 'dev', '-w', 'web', '--', '--port', String(ports.web), '--strictPort']);

  try {
    await Promise.all([
      waitHealthy(dropletUrl, 'the droplet', 180_000, () => stopping),
      waitHealthy(serverlessUrl, 'the serverless stack', 180_000, () => stopping),
    ]);
  } catch (err) {
    console.error(`[start] ${(err as Error).message}`);
    void stopAll(1);
    return finished;
  }
  if (!stopping) {
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
  Slack signing secret ${isDev ? `${secret} (development default)` : '(from SLACK_SIGNING_SECRET)'}
  traffic              ${trafficRate > 0 ? `${trafficRate} signed Slack events/s to both deployments` : 'off (TRAFFIC_RATE=0)'}

${verbose ? '' : `  logs                 ${path.relative(REPO_ROOT, LOG_DIR)}/{droplet,serverless,dashboard,traffic}.log\n`}
Ctrl-C stops everything.
${line}\n`);
  }
  return finished;
}

const program = createCommand(
  'npm start',
  'Runs the whole system locally: the droplet with its FerretDB, the serverless offline stack, the dashboard and live Slack traffic to both deployments.',
).addHelpText('after', ENVIRONMENT);

await runCli(program, main);
