/**
 * The droplet as its own process, the way it runs in production (`node dist/main.js`, built on
 * demand), so that benchmarks and the comparison measure its CPU and memory alone. The TypeScript
 * entry through `node --import tsx` stays available for the before/after comparison; not the tsx
 * CLI, which runs the program in a second process and would make the measured pid the wrapper's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { spawnManaged, type ManagedProcess } from '../managed-process.js';
import { freePorts, waitForPort } from '../ports.js';
import { assertServersAllowed } from '../server-guard.js';
import { DROPLET_DIR } from '../workspaces.js';
import { DROPLET_MAIN_TS, ensureDropletBuild } from './droplet-build.js';

export interface DropletProcess {
  readonly process: ManagedProcess;
  readonly pid: number;
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** Epoch ms just before the process was spawned (start-up time = its `listening` log line's `time` minus this). */
  readonly spawnedAt: number;
  /** `http://127.0.0.1:<port>/metrics`, or undefined when METRICS_PORT=off was passed. */
  readonly metricsUrl: string | undefined;
  /** The droplet's inbox journal folder (INBOX_DIR). */
  readonly inboxDir: string;
  /** SIGTERM (the droplet drains and closes its sockets), SIGKILL after 20 s. */
  stop(): Promise<void>;
}

export interface DropletProcessOptions {
  /** Variables on top of this process's environment (MONGODB_URI, SLACK_SIGNING_SECRET, ...). */
  readonly env: Readonly<Record<string, string>>;
  /** Default: a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Extra node flags, e.g. `--cpu-prof` (env BENCH_NODE_FLAGS adds more). */
  readonly nodeFlags?: readonly string[];
  /** Where its stderr goes (default: this process's stderr). */
  readonly stderr?: 'inherit' | 'ignore';
  /** Receives each line of stdout (the JSON log); dropped when omitted. */
  readonly onLogLine?: (line: string) => void;
  /** `built` (default): `node dist/main.js`, built when stale; `tsx`: the TypeScript sources. */
  readonly runtime?: 'built' | 'tsx';
  readonly readyTimeoutMs?: number;
}

export async function startDropletProcess(options: DropletProcessOptions): Promise<DropletProcess> {
  assertServersAllowed('the droplet process');
  const host = options.host ?? '127.0.0.1';
  const [freeHttp, freeMetrics] = await freePorts(2, host);
  const port = options.port ?? (freeHttp as number);
  // Its own metrics port too: the default (9464) would collide between parallel droplets.
  const metricsPort = options.env.METRICS_PORT ?? String(freeMetrics);
  const flags = [
    ...(options.nodeFlags ?? []),
    ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
  ];
  const entry =
    options.runtime === 'tsx'
      ? ['--import', 'tsx', DROPLET_MAIN_TS]
      : ['--enable-source-maps', ensureDropletBuild()];
  // One journal per droplet: two processes on one folder would be refused (its lock). A folder of
  // its own unless the caller passes one (a restart that must find the journal again).
  const ownInbox = options.env.INBOX_DIR === undefined;
  const inboxDir =
    options.env.INBOX_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'reactometer-droplet-inbox-'));
  const spawnedAt = Date.now();
  const proc = spawnManaged(process.execPath, [...flags, ...entry], {
    cwd: DROPLET_DIR,
    env: {
      ...process.env,
      ...options.env,
      PORT: String(port),
      HOST: host,
      METRICS_PORT: metricsPort,
      INBOX_DIR: inboxDir,
    },
    stdio: ['ignore', options.onLogLine ? 'pipe' : 'ignore', options.stderr ?? 'inherit'],
    // The droplet stops itself gracefully on SIGTERM; no need to signal a group.
    group: false,
    graceMs: 20_000,
  });
  if (options.onLogLine && proc.child.stdout) {
    const onLine = options.onLogLine;
    createInterface({ input: proc.child.stdout }).on('line', onLine);
  }
  try {
    await waitForPort(port, {
      host,
      what: 'the droplet',
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      check: () => {
        if (!proc.running()) throw new Error(`the droplet exited with ${proc.child.exitCode}`);
      },
    });
  } catch (err) {
    await proc.stop({ signal: 'SIGKILL' });
    if (ownInbox) rmSync(inboxDir, { recursive: true, force: true });
    throw err;
  }
  return {
    process: proc,
    pid: proc.pid,
    port,
    spawnedAt,
    httpUrl: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/ws`,
    metricsUrl: /^off$/i.test(metricsPort) ? undefined : `http://127.0.0.1:${metricsPort}/metrics`,
    inboxDir,
    stop: async () => {
      await proc.stop();
      if (ownInbox) rmSync(inboxDir, { recursive: true, force: true });
    },
  };
}

/**
 * WS_MAX_CONNECTIONS_PER_ADDRESS for load runs (compare, bench, load tests): load generators put
 * a few thousand dashboards on one 127.0.0.x address (directly, or as X-Forwarded-For behind
 * nginx), and the default cap (100 per address, against one abusive client) would refuse them.
 */
export const LOAD_RUN_PER_ADDRESS_CAP = 5_000;
