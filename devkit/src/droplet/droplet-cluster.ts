/**
 * The droplet scaled out on this machine: K droplet processes (the build, `node dist/main.js`)
 * sharing one MongoDB-wire database (a FerretDB it starts, unless given a URI) and one Redis
 * (started here unless given a URL), behind a real nginx running the droplet's own site template
 * (`legacy-server/deploy/nginx/`) with an upstream of K servers, on one public port. Each process
 * has its own inbox folder, kept across `kill()` / `restart()` so that a restarted process drains
 * what it had acknowledged. Used by `npm run legacy -- --processes K`, the scale-out tests and
 * `npm run compare`'s "droplet x K".
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_SIGNING_SECRET } from '../dev-secret.js';
import { startFerretDb, type FerretDbProcess } from '../ferretdb.js';
import { processTree } from '../measure/proc-stats.js';
import { renderTemplate, startNginx, type NginxProcess, type NginxTuning } from '../nginx.js';
import { freePort, freePorts } from '../ports.js';
import { startRedis, type RedisProcess } from '../redis.js';
import { assertServersAllowed } from '../server-guard.js';
import { DROPLET_DIR } from '../workspaces.js';
import { startDropletProcess, type DropletProcess } from './droplet-process.js';

export interface DropletClusterOptions {
  /** How many droplet processes (K >= 1). */
  readonly processes: number;
  /**
   * Variables for every droplet on top of the cluster's own (MONGODB_URI, MONGODB_DB,
   * SLACK_SIGNING_SECRET, REDIS_URL, STORE_LOCK=redis, TRUST_PROXY=loopback, its INBOX_DIR,
   * PORT, HOST, METRICS_PORT), which they override; e.g. WS_MAX_CONNECTIONS_PER_ADDRESS,
   * WS_MAX_CONNECTIONS, BROADCAST_WINDOW_MS, LOG_LEVEL.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** A database to use (`mongodb://...`); default: a FerretDB of its own on a temporary folder. */
  readonly mongodbUri?: string;
  /** Default: a fresh name per cluster. */
  readonly mongodbDb?: string;
  /** A Redis to use; default: one of its own (`startRedis`). */
  readonly redisUrl?: string;
  /** Where its own Redis keeps its folder (default: a temporary one). */
  readonly redisDataDir?: string;
  /** Where the processes' inbox folders go (`<dir>/droplet-<i>`); default a temporary folder. */
  readonly inboxRoot?: string;
  /** The public port nginx listens on (127.0.0.1); default a free one. */
  readonly port?: number;
  /** nginx workers and connections (see `nginxTuningFor` for N dashboards). */
  readonly nginx?: NginxTuning & {
    /** How long a WebSocket may be silent before nginx cuts it (default `75s`). */
    readonly wsReadTimeout?: string;
  };
  /** Each droplet's JSON log lines, with its index (dropped when omitted). */
  readonly onLogLine?: (index: number, line: string) => void;
  /** The droplets' stderr (default: inherited). */
  readonly stderr?: 'inherit' | 'ignore';
}

export interface ClusterMember {
  readonly index: number;
  /** Its pid now (changes with `restart()`). */
  readonly pid: number;
  readonly port: number;
  /** The process directly, bypassing nginx. */
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly inboxDir: string;
  running(): boolean;
  /** SIGKILL: its sockets drop, its acknowledged events wait in its inbox. */
  kill(): Promise<void>;
  /** SIGTERM (graceful: drains, closes sockets with 1001). */
  stop(): Promise<void>;
  /** Starts it again on the same port and inbox folder (after `kill()` or `stop()`). */
  restart(): Promise<void>;
}

export interface DropletCluster {
  /** The public port (nginx). */
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly processes: readonly ClusterMember[];
  readonly mongodbUri: string;
  readonly mongodbDb: string;
  readonly redisUrl: string;
  /** Its own Redis (kill / start for fault tests), or null when `redisUrl` was given. */
  readonly redis: RedisProcess | null;
  /** Its own FerretDB, or null when `mongodbUri` was given. */
  readonly db: FerretDbProcess | null;
  readonly nginx: NginxProcess;
  /** nginx's master and workers (for CPU and memory sampling). */
  nginxPids(): number[];
  /** Every droplet pid now running. */
  dropletPids(): number[];
  /** Stops nginx, the droplets (gracefully), then Redis and FerretDB; removes temporary folders. */
  stop(): Promise<void>;
}

const SITE_TEMPLATE_FILE = path.join(DROPLET_DIR, 'deploy', 'nginx', 'reactometer.conf.template');

/**
 * The droplet's deployed site for K local upstreams, on plain HTTP: the template's upstream gets
 * every process (least connections first: dashboards hold their sockets for hours, so counting
 * requests would pile them on whichever process came back last), its TLS server listens without
 * TLS (certificates are the deploy tests' business, not the scale-out's), the HTTP->HTTPS
 * redirect server is dropped and logs go to the instance's folder. Everything else (the /ws
 * upgrade, timeouts, the body limit, X-Forwarded-For) is the production file's; the listener
 * gets `reuseport`.
 */
export function renderClusterSite(options: {
  readonly upstreams: readonly string[];
  readonly port: number;
  readonly prefix: string;
  readonly wsReadTimeout: string;
}): string {
  const template = readFileSync(SITE_TEMPLATE_FILE, 'utf8');
  const servers = options.upstreams.map((u) => `server ${u};`).join('\n    ');
  const withUpstreams = template.replace(
    /^(\s*)server \$\{DROPLET_UPSTREAM\};$/m,
    (_, indent: string) => `${indent}least_conn;${indent}${servers}`,
  );
  const plain = withUpstreams
    // The redirect server (the one listening on HTTP_PORT) goes entirely.
    .replace(/^server \{\n\s*listen \$\{HTTP_PORT\};[\s\S]*?^\}\n/m, '')
    // reuseport: one accept queue per worker, filled by the kernel evenly. backlog: nginx's
    // default queue (511) overflowed past 40,000 dashboards here (ListenOverflows; the dropped
    // SYNs came back after 1, 3, 7 s, past the clients' 10 s handshake timeout).
    .replace(/listen \$\{HTTPS_PORT\} ssl;/, 'listen ${HTTPS_PORT} reuseport backlog=4096;')
    .replace(/^\s*(ssl_\w+|add_header Strict-Transport-Security)\b.*$/gm, '')
    .replace(/^\s*listen \[::\]:.*$/gm, '')
    .replace(/\/var\/log\/nginx\/reactometer\.access\.log/g, `${options.prefix}/access.log`);
  return renderTemplate(plain, {
    DOMAIN: 'localhost',
    HTTPS_PORT: `127.0.0.1:${options.port}`,
    WS_READ_TIMEOUT: options.wsReadTimeout,
  });
}

export async function startDropletCluster(options: DropletClusterOptions): Promise<DropletCluster> {
  assertServersAllowed('the droplet cluster');
  if (!Number.isInteger(options.processes) || options.processes < 1) {
    throw new Error(`processes: must be an integer >= 1 (got ${options.processes})`);
  }
  const cleanups: (() => Promise<void> | void)[] = [];
  const undo = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  };
  try {
    const ownInboxRoot = options.inboxRoot === undefined;
    const inboxRoot =
      options.inboxRoot ?? mkdtempSync(path.join(os.tmpdir(), 'reactometer-cluster-'));
    if (ownInboxRoot) cleanups.push(() => rmSync(inboxRoot, { recursive: true, force: true }));

    let db: FerretDbProcess | null = null;
    let mongodbUri = options.mongodbUri;
    if (mongodbUri === undefined) {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'reactometer-cluster-ferretdb-'));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const ferret = await startFerretDb({ dataDir });
      db = ferret;
      cleanups.push(() => ferret.stop());
      mongodbUri = ferret.uri;
    }
    const mongodbDb = options.mongodbDb ?? `cluster_${process.pid}_${Date.now().toString(36)}`;

    let redis: RedisProcess | null = null;
    let redisUrl = options.redisUrl;
    if (redisUrl === undefined) {
      const started = await startRedis(
        options.redisDataDir === undefined ? {} : { dataDir: options.redisDataDir },
      );
      redis = started;
      cleanups.push(() => started.stop());
      redisUrl = started.url;
    }

    const baseEnv: Record<string, string> = {
      MONGODB_URI: mongodbUri,
      MONGODB_DB: mongodbDb,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      REDIS_URL: redisUrl,
      // FerretDB applies updates as read-then-write: an event's writes take a per-emoji lease.
      STORE_LOCK: 'redis',
      // nginx on this host states the client address.
      TRUST_PROXY: 'loopback',
      LOG_LEVEL: 'warn',
      ...options.env,
    };
    const ports = await freePorts(options.processes);
    const members = await Promise.all(
      ports.map(async (port, index) => {
        const member = await startMember({
          index,
          port,
          env: { ...baseEnv, INBOX_DIR: path.join(inboxRoot, `droplet-${index}`) },
          options,
        });
        cleanups.push(() => member.stop());
        return member;
      }),
    );

    const publicPort = options.port ?? (await freePort());
    const nginx = await startNginx({
      httpConfig: (prefix) =>
        renderClusterSite({
          upstreams: ports.map((p) => `127.0.0.1:${p}`),
          port: publicPort,
          prefix,
          wsReadTimeout: options.nginx?.wsReadTimeout ?? '75s',
        }),
      ports: [publicPort],
      ...(options.nginx === undefined ? {} : { tuning: options.nginx }),
    });
    cleanups.push(() => nginx.stop());

    let stopping: Promise<void> | undefined;
    return {
      port: publicPort,
      httpUrl: `http://127.0.0.1:${publicPort}`,
      wsUrl: `ws://127.0.0.1:${publicPort}/ws`,
      processes: members,
      mongodbUri,
      mongodbDb,
      redisUrl,
      redis,
      db,
      nginx,
      nginxPids: () => processTree(nginx.pid),
      dropletPids: () => members.filter((m) => m.running()).map((m) => m.pid),
      stop: () => (stopping ??= undo()),
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

async function startMember(input: {
  readonly index: number;
  readonly port: number;
  readonly env: Readonly<Record<string, string>>;
  readonly options: DropletClusterOptions;
}): Promise<ClusterMember> {
  const { index, port, env, options } = input;
  const launch = (): Promise<DropletProcess> =>
    startDropletProcess({
      env,
      port,
      ...(options.stderr === undefined ? {} : { stderr: options.stderr }),
      ...(options.onLogLine === undefined
        ? {}
        : { onLogLine: (line: string) => options.onLogLine?.(index, line) }),
    });
  let current = await launch();
  return {
    index,
    port,
    get pid() {
      return current.pid;
    },
    httpUrl: current.httpUrl,
    wsUrl: current.wsUrl,
    inboxDir: current.inboxDir,
    running: () => current.process.running(),
    kill: () => current.process.stop({ signal: 'SIGKILL', graceMs: 0 }),
    stop: () => current.stop(),
    restart: async () => {
      if (current.process.running()) await current.stop();
      current = await launch();
    },
  };
}
