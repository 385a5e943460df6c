/**
 * Starts the local deployments as load targets through the local-stack toolkit: the droplet (its
 * own process, the build, with FerretDB on PostgreSQL unless FERRETDB_BACKEND=sqlite), the
 * serverless offline stack (its own process tree) and droplet x K (K droplet processes, one
 * FerretDB, one Redis, behind nginx).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { maxConnectionsFromLimit, parseOpenFileSoftLimit } from '@reactometer/shared';
import { processTree } from '@reactometer/devkit';
import * as dropletKit from '@reactometer/devkit/droplet';
import * as nginxKit from '@reactometer/devkit/nginx';
import { startFerretDb } from '@reactometer/devkit/ferretdb';
import { startOfflineStackProcess } from '@reactometer/devkit/offline';
import type { Target } from './target.js';

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
  const droplet = await dropletKit.startDropletProcess({
    env: {
      MONGODB_URI: db.uri,
      MONGODB_DB: `compare_${Date.now().toString(36)}`,
      SLACK_SIGNING_SECRET: options.signingSecret,
      // warn would log every refused upgrade at the cap: thousands of lines in connection-scaling.
      LOG_LEVEL: 'error',
    },
  });
  return {
    target: {
      name: 'droplet',
      kind: 'droplet',
      httpUrl: droplet.httpUrl,
      wsUrl: droplet.wsUrl,
      signingSecret: options.signingSecret,
      maxNewConnectionsPerSecond: options.maxNewConnectionsPerSecond,
      // Read at every sample: PostgreSQL's backends come and go with FerretDB's connections.
      serverPids: () => [droplet.pid, ...db.pids()],
    },
    notes: {
      processes: `droplet (node dist/main.js, pid ${droplet.pid}) + FerretDB v1.24.2 on ${db.backend === 'postgresql' ? 'PostgreSQL' : 'SQLite'} (pids ${db.pids().join(', ')})`,
      wsMaxConnections: `${defaultDropletCap()} (default: the soft open-file limit minus its reserve)`,
    },
    stop: async () => {
      await droplet.stop();
      await db.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startServerlessTarget(options: {
  signingSecret: string;
  maxNewConnectionsPerSecond: number;
}): Promise<RunningTarget> {
  const stack = await startOfflineStackProcess({ signingSecret: options.signingSecret });
  return {
    target: {
      name: 'serverless-local',
      kind: 'serverless-local',
      httpUrl: stack.httpUrl,
      wsUrl: stack.wsUrl,
      signingSecret: options.signingSecret,
      maxNewConnectionsPerSecond: options.maxNewConnectionsPerSecond,
      serverPids: () => processTree(stack.pid),
      connectionRecords: stack.connectionRecords,
    },
    notes: {
      processes: `serverless host (dynalite, pid ${stack.pid}) + serverless-offline v13 and what it spawns (Lambda handlers in process)`,
      dynamodbEndpoint: stack.dynamodbEndpoint,
    },
    stop: () => stack.stop(),
  };
}

/**
 * WS_MAX_CONNECTIONS_PER_ADDRESS for the load run: the droplets judge the cap on X-Forwarded-For
 * behind nginx, and the load generator puts up to `perAddress` dashboards on one 127.0.0.x
 * address; the default (100) would refuse all but a few hundred of them.
 */
export const LOAD_RUN_PER_ADDRESS_CAP = 5_000;

/**
 * The part of devkit's droplet x K starter (issue 14 items 1-2, /work/wt-14 CLUSTER-API.md) that
 * compare uses, looked up at run time until that branch is merged here; then these types give
 * way to the package's own.
 */
interface NginxTuning {
  readonly workerProcesses: number;
  readonly workerConnections: number;
  readonly workerRlimitNofile: number;
}
interface DropletCluster {
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly redis: { pid(): number } | null;
  readonly db: { pids(): number[] } | null;
  dropletPids(): number[];
  nginxPids(): number[];
  stop(): Promise<void>;
}
function clusterKit(): {
  startDropletCluster: (options: {
    processes: number;
    env: Readonly<Record<string, string>>;
    nginx: NginxTuning;
  }) => Promise<DropletCluster>;
  nginxTuningFor: (webSockets: number) => NginxTuning;
} {
  const start = (dropletKit as Record<string, unknown>).startDropletCluster;
  const tuning = (nginxKit as Record<string, unknown>).nginxTuningFor;
  if (typeof start !== 'function' || typeof tuning !== 'function')
    throw new Error('@reactometer/devkit has no startDropletCluster yet (issue 14 items 1-2)');
  return {
    startDropletCluster: start as ReturnType<typeof clusterKit>['startDropletCluster'],
    nginxTuningFor: tuning as ReturnType<typeof clusterKit>['nginxTuningFor'],
  };
}

export async function startDropletClusterTarget(options: {
  name: string;
  processes: number;
  /** Most dashboards the run will hold: nginx's workers and descriptors are sized for them. */
  dashboards: number;
  signingSecret: string;
  maxNewConnectionsPerSecond: number;
}): Promise<RunningTarget> {
  const { startDropletCluster, nginxTuningFor } = clusterKit();
  const cluster = await startDropletCluster({
    processes: options.processes,
    env: {
      SLACK_SIGNING_SECRET: options.signingSecret,
      LOG_LEVEL: 'error',
      WS_MAX_CONNECTIONS_PER_ADDRESS: String(LOAD_RUN_PER_ADDRESS_CAP),
    },
    nginx: nginxTuningFor(options.dashboards),
  });
  const tuning = nginxTuningFor(options.dashboards);
  // Read at every sample: PostgreSQL's backends come and go with FerretDB's connections.
  const pids = (): number[] => [
    ...cluster.dropletPids(),
    ...cluster.nginxPids(),
    ...(cluster.redis === null ? [] : [cluster.redis.pid()]),
    ...(cluster.db?.pids() ?? []),
  ];
  return {
    target: {
      name: options.name,
      kind: 'droplet-cluster',
      httpUrl: cluster.httpUrl,
      wsUrl: cluster.wsUrl,
      signingSecret: options.signingSecret,
      maxNewConnectionsPerSecond: options.maxNewConnectionsPerSecond,
      serverPids: pids,
    },
    notes: {
      processes: `${options.processes} droplet processes (node dist/main.js, pids ${cluster.dropletPids().join(', ')}) behind nginx (least_conn; pids ${cluster.nginxPids().join(', ')}) + Redis pub/sub + one FerretDB v1.24.2 on PostgreSQL`,
      wsMaxConnections: `${defaultDropletCap()} per process (default: the soft open-file limit minus its reserve)`,
      wsMaxConnectionsPerAddress: `${LOAD_RUN_PER_ADDRESS_CAP} (raised for the load run from the default 100: judged on X-Forwarded-For with TRUST_PROXY=loopback, and the load generator puts up to 2,250 dashboards on one 127.0.0.x address)`,
      nginx: `worker_processes ${tuning.workerProcesses}, worker_connections ${tuning.workerConnections}, worker_rlimit_nofile ${tuning.workerRlimitNofile} (two descriptors per dashboard; a process may open at most 20,000 files here)`,
    },
    stop: () => cluster.stop(),
  };
}
