/**
 * `npm run legacy [-- --processes K]`: runs the droplet locally with nothing to set up. Uses MONGODB_URI when set,
 * otherwise starts FerretDB (on PostgreSQL, `.data/ferretdb-legacy`); fills in a dev Slack
 * signing secret; builds the droplet when a source changed; then runs the build
 * (`node dist/main.js`, as production does) as a child process and stops FerretDB after it exits,
 * so that Ctrl+C leaves no process behind. With `--processes K` (K > 1) it runs the scale-out
 * instead: K droplet processes on that database and a Redis of its own (`.data/redis-legacy`),
 * behind nginx on PORT (`startDropletCluster`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { LOCAL_DASHBOARD_ORIGINS } from '@reactometer/shared/auth';
import { createCommand, numberOption, readConfig, runCli } from '@reactometer/cli';
import { describeConfig, loadConfig } from '@reactometer/legacy-server/config';
import { devSecretWarning, localSigningSecret } from '../dev-secret.js';
import { DEV_FERRETDB_DATA_DIR, startDevFerretDb } from '../droplet/dev-database.js';
import { DATA_DIR } from '../paths.js';
import { ensureDropletBuild } from '../droplet/droplet-build.js';
import type { FerretDbProcess } from '../ferretdb.js';
import { isPortOpen } from '../ports.js';
import { startDropletCluster } from '../droplet/droplet-cluster.js';
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const say = (line: string): void => {
  process.stderr.write(`[legacy] ${line}\n`);
};

/** A wildcard bind address is probed through loopback. */
function probeHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return signal !== null ? 128 + (os.constants.signals[signal] ?? 0) : 1;
}

interface Options {
  readonly processes: number;
}

/**
 * Until SIGINT / SIGTERM / SIGHUP. The handlers stay: a repeated signal (a terminal's Ctrl+C
 * reaches npm and this process both) must not kill the launcher while it stops what it started.
 */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const signal of FORWARDED_SIGNALS) process.on(signal, () => resolve(signal));
  });
}

/** K processes on `mongodbUri`, a Redis of their own, nginx on the configured port. */
async function runCluster(
  processes: number,
  env: NodeJS.ProcessEnv,
  config: { readonly port: number },
): Promise<number> {
  const passThrough = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  // The cluster gives each process its own inbox folder under this one.
  delete passThrough.INBOX_DIR;
  delete passThrough.PORT;
  delete passThrough.METRICS_PORT;
  say(`starting ${processes} droplet processes, Redis and nginx on port ${config.port} ...`);
  const cluster = await startDropletCluster({
    processes,
    env: { LOG_LEVEL: 'info', ...passThrough },
    mongodbUri: passThrough.MONGODB_URI!,
    mongodbDb: passThrough.MONGODB_DB ?? 'reactometer',
    redisDataDir: path.join(DATA_DIR, 'redis-legacy'),
    inboxRoot: path.join(DATA_DIR, 'inbox-legacy-cluster'),
    port: config.port,
  });
  say(`nginx on ${cluster.httpUrl} (WebSocket ${cluster.wsUrl}), Redis at ${cluster.redisUrl}`);
  for (const p of cluster.processes) say(`  droplet ${p.index}: pid ${p.pid}, ${p.httpUrl}`);
  const signal = await untilSignal();
  say(`${signal}: stopping nginx, the droplets and Redis`);
  await cluster.stop();
  return 0;
}

async function run({ processes }: Options): Promise<number> {
  const { secret, isDev } = localSigningSecret();
  const env: NodeJS.ProcessEnv = {
    // The dev droplet's inbox journal sits beside its FerretDB data, kept across runs.
    INBOX_DIR: path.join(DATA_DIR, 'inbox-legacy'),
    ...process.env,
    SLACK_SIGNING_SECRET: secret,
    // The local dashboard (`npm start`, :5173) may open sockets and read across origins.
    ALLOWED_ORIGINS: process.env.ALLOWED_ORIGINS ?? LOCAL_DASHBOARD_ORIGINS,
  };
  if (isDev) devSecretWarning().forEach(say);

  // Validated here as well as in main.ts, so that a typo fails before FerretDB is started.
  const config = readConfig(() => loadConfig(env));

  if (config.port !== 0 && (await isPortOpen(config.port, probeHost(config.host)))) {
    say(`port ${config.port} is already in use (another \`npm run legacy\`?).`);
    say(`choose another one, e.g.: PORT=${config.port + 1} npm run legacy`);
    return 1;
  }

  let ferret: FerretDbProcess | undefined;
  let child: ChildProcess | undefined;
  const forward = (signal: NodeJS.Signals): void => {
    // Before the child exists there is only FerretDB to stop; `finally` below does that.
    if (child === undefined || child.exitCode !== null) process.exitCode = 130;
    else child.kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  // Last resort if this process dies unexpectedly: never leave the server running unowned.
  process.on('exit', () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null)
      child.kill('SIGKILL');
  });

  try {
    if (config.mongodbUri === undefined) {
      say(`MONGODB_URI is not set; starting FerretDB on ${DEV_FERRETDB_DATA_DIR} ...`);
      ferret = await startDevFerretDb(say);
      env.MONGODB_URI = ferret.uri;
      say(`FerretDB is listening at ${ferret.uri}`);
    }
    if (process.exitCode === 130) return 130;
    if (processes > 1) {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      return await runCluster(processes, env, config);
    }

    // The child is the server itself (plain node, no wrapper), so the signal this launcher
    // forwards reaches it directly.
    const main = ensureDropletBuild();
    say(`starting the droplet on ${config.host}:${config.port} (HTTP and WebSocket at /ws)`);
    const started = spawn(process.execPath, ['--enable-source-maps', main], {
      env,
      stdio: 'inherit',
    });
    child = started;
    const code = await new Promise<number>((resolve) => {
      started.once('error', (err) => {
        say(`could not start the droplet: ${err.message}`);
        resolve(1);
      });
      started.once('exit', (exitCode, signal) => resolve(exitCodeOf(exitCode, signal)));
    });
    say(`droplet exited with code ${code}`);
    return code;
  } finally {
    if (ferret !== undefined) {
      say('stopping FerretDB');
      await ferret.stop();
    }
    for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
  }
}

const program = createCommand(
  'npm run legacy',
  'Runs the droplet locally (HTTP and WebSocket on PORT, default 3000) with a FerretDB it starts and stops, unless MONGODB_URI is set. SLACK_SIGNING_SECRET defaults to the dev secret.',
)
  .option(
    '--processes <K>',
    'K droplet processes sharing the database and a Redis (started here), behind nginx on PORT',
    numberOption({ integer: true, min: 1, max: 64 }),
    1,
  )
  .addHelpText('after', `\nEnvironment (the droplet's own variables):\n${describeConfig()}`);

await runCli<Options>(program, run);
