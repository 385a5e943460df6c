/**
 * Starts the two local deployments as targets: the droplet (its own process, with FerretDB) and
 * the serverless offline stack (its own process tree, see serverless-host.ts).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDropletProcess } from '../../../legacy-server/bench/bench-support.js';
import {
  maxConnectionsFromLimit,
  parseOpenFileSoftLimit,
} from '../../../legacy-server/src/config.js';
import { startFerretDb } from '../../../scripts/lib/ferretdb.js';
import { freePort } from '../../../scripts/lib/free-port.js';
import { childrenNamed, processTree } from './proc-stats.js';
import type { Target } from './target.js';
import { readFileSync } from 'node:fs';

export interface RunningTarget {
  readonly target: Target;
  /** What the report says about how it ran. */
  readonly notes: Record<string, string | number>;
  stop(): Promise<void>;
}

/** The droplet's WebSocket cap when WS_MAX_CONNECTIONS is unset (from this machine's open-file limit). */
export function defaultDropletCap(): number {
  return maxConnectionsFromLimit(parseOpenFileSoftLimit(readFileSync('/proc/self/limits', 'utf8')));
}

export async function startDropletTarget(options: {
  signingSecret: string;
  maxNewConnectionsPerSecond: number;
}): Promise<RunningTarget> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'reactometer-compare-ferretdb-'));
  const db = await startFerretDb({ dataDir });
  const port = await freePort();
  const droplet = await startDropletProcess(
    {
      MONGODB_URI: db.uri,
      MONGODB_DB: `compare_${Date.now().toString(36)}`,
      SLACK_SIGNING_SECRET: options.signingSecret,
      // warn would log every refused upgrade at the cap: thousands of lines in connection-scaling.
      LOG_LEVEL: 'error',
    },
    port,
  );
  const ferret = childrenNamed(process.pid, 'ferretdb');
  return {
    target: {
      name: 'droplet',
      kind: 'droplet',
      httpUrl: droplet.httpUrl,
      wsUrl: droplet.wsUrl,
      signingSecret: options.signingSecret,
      maxNewConnectionsPerSecond: options.maxNewConnectionsPerSecond,
      serverPids: () => [droplet.pid, ...ferret],
    },
    notes: {
      processes: `droplet (node, pid ${droplet.pid}) + FerretDB v1.24.2 SQLite (pids ${ferret.join(', ') || 'not found'})`,
      wsMaxConnections: `${defaultDropletCap()} (default: the soft open-file limit minus its reserve)`,
    },
    stop: async () => {
      await droplet.stop();
      await db.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const HOST_FILE = fileURLToPath(new URL('./serverless-host.ts', import.meta.url));

export async function startServerlessTarget(options: {
  signingSecret: string;
  maxNewConnectionsPerSecond: number;
}): Promise<RunningTarget> {
  const child = fork(HOST_FILE, [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      REACTOMETER_SIGNING_SECRET: options.signingSecret,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ httpUrl: string; wsUrl: string; dynamodbEndpoint: string }>(
    (resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('serverless offline stack not ready in 200 s')),
        200_000,
      );
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serverless host exited (${code}) before it was ready`));
      });
      child.once(
        'message',
        (m: { op: string; httpUrl: string; wsUrl: string; dynamodbEndpoint: string }) => {
          clearTimeout(timer);
          resolve(m);
        },
      );
    },
  );
  let nextId = 1;
  const connectionRecords = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error('connection count timed out'));
      }, 30_000);
      const onMessage = (m: { op: string; id: number; count?: number; error?: string }): void => {
        if (m.op !== 'countConnections' || m.id !== id) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        if (m.count === undefined) reject(new Error(m.error ?? 'no count'));
        else resolve(m.count);
      };
      child.on('message', onMessage);
      child.send({ op: 'countConnections', id });
    });
  const hostPid = child.pid as number;
  return {
    target: {
      name: 'serverless-local',
      kind: 'serverless-local',
      httpUrl: ready.httpUrl,
      wsUrl: ready.wsUrl,
      signingSecret: options.signingSecret,
      maxNewConnectionsPerSecond: options.maxNewConnectionsPerSecond,
      serverPids: () => processTree(hostPid),
      connectionRecords,
    },
    notes: {
      processes: `serverless host (dynalite, pid ${hostPid}) + serverless-offline v13 and what it spawns (Lambda handlers in process)`,
      dynamodbEndpoint: ready.dynamodbEndpoint,
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send({ op: 'stop', id: 0 });
      }),
  };
}
