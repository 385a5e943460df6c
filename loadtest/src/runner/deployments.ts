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
import {
  LOAD_RUN_PER_ADDRESS_CAP,
  startDropletCluster,
  startDropletProcess,
} from '@reactometer/devkit/droplet';
import { nginxTuningFor } from '@reactometer/devkit/nginx';
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
  const droplet = await startDropletProcess({
    env: {
      MONGODB_URI: db.uri,
      MONGODB_DB: `compare_${Date.now().toString(36)}`,
      SLACK_SIGNING_SECRET: options.signingSecret,
      // warn would log every refused upgrade at the cap: thousands of lines in connection-scaling.
      LOG_LEVEL: 'error',
      WS_MAX_CONNECTIONS_PER_ADDRESS: String(LOAD_RUN_PER_ADDRESS_CAP),
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
      wsMaxConnectionsPerAddress: `${LOAD_RUN_PER_ADDRESS_CAP} (raised for the load run from the default 100: the load generator puts up to 2,500 dashboards on one 127.0.0.x address)`,
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

export async function startDropletClusterTarget(options: {
  name: string;
  processes: number;
  /** Most dashboards the run will hold: nginx's workers and descriptors are sized for them. */
  dashboards: number;
  signingSecret: string;
  maxNewConnectionsPerSecond: number;
}): Promise<RunningTarget> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'reactometer-compare-ferretdb-'));
  const db = await startFerretDb({ dataDir });
  const cluster = await startDropletCluster({
    mongodbUri: db.uri,
    mongodbDb: `compare_${Date.now().toString(36)}`,
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
    ...[cluster.redis?.pid()].filter((p): p is number => p !== undefined),
    ...db.pids(),
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
    stop: async () => {
      await cluster.stop();
      await db.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
