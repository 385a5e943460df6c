/**
 * nginx from Debian's packages, started by the toolkit in front of local servers: a prefix folder
 * of its own (config, pid, logs, temp files), free ports, in the foreground as this process's
 * child, stopped with its process group. `nginxConfigTest` is `nginx -t` on a config without
 * starting anything. Used by the droplet's deploy tests, and meant for any test that needs a real
 * reverse proxy or load balancer in front of one or more droplets.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { aptInstall, hasApt } from './apt.js';
import { spawnManaged, type ManagedProcess } from './managed-process.js';
import { waitForPort } from './ports.js';
import { assertServersAllowed } from './server-guard.js';

export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

/**
 * Installs Debian's nginx when it is missing (idempotent); returns the binary. The package's own
 * service is not used: each test starts an instance of its own (`startNginx`).
 */
export function ensureNginx(log: (line: string) => void = () => {}): string {
  if (existsSync(NGINX_BIN)) return NGINX_BIN;
  if (!hasApt()) {
    throw new Error(`nginx is not installed at ${NGINX_BIN}. Install it, or set NGINX_BIN.`);
  }
  log('installing nginx with apt-get (first run only)...');
  const status = aptInstall(['nginx']);
  if (status !== 0 || !existsSync(NGINX_BIN)) {
    throw new Error(
      `installing nginx failed (apt-get exited with ${status}); install the "nginx" package by hand.`,
    );
  }
  return NGINX_BIN;
}

/**
 * Fills `${NAME}` placeholders from `vars`, as `envsubst '$NAME ...'` does with an explicit list:
 * names not in `vars` (nginx's own `$host`, `$remote_addr`) are left alone. Throws on a
 * `${NAME}` that `vars` lacks, so a template and its caller cannot drift apart silently.
 */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`template needs \${${name}}`);
    return value;
  });
}

/** The worker user when nginx's master runs as root: `nobody` and its group. */
function workerUserDirective(): string {
  if (process.getuid?.() !== 0) return '';
  const group = spawnSync('id', ['-gn', 'nobody'], { encoding: 'utf8' }).stdout.trim();
  return `user nobody ${group || 'nogroup'};\n`;
}

/** How many workers nginx runs and how many connections each may hold. */
export interface NginxTuning {
  /** Default 1. */
  readonly workerProcesses?: number;
  /** Connections per worker, client and upstream sides both counted (default 4096). */
  readonly workerConnections?: number;
  /** Open files per worker; must stay under the hard limit (`ulimit -Hn`). Default: unset. */
  readonly workerRlimitNofile?: number;
}

/**
 * Workers and connections for `webSockets` proxied sockets: each costs a worker two connections
 * and two descriptors (the client's and the upstream's), and no worker may open more files than
 * `hardLimit` (20,000 per process on this machine), so past ~9,500 sockets it takes more workers.
 */
export function nginxTuningFor(webSockets: number, hardLimit = 20_000): Required<NginxTuning> {
  const workerRlimitNofile = hardLimit - 500;
  const workerConnections = workerRlimitNofile - 500;
  // 10% headroom: connections do not spread over workers exactly evenly.
  const workerProcesses = Math.max(1, Math.ceil((webSockets * 2 * 1.1) / workerConnections));
  return { workerProcesses, workerConnections, workerRlimitNofile };
}

/**
 * A complete nginx.conf around `httpConfig` (the inside of `http {}`: upstreams, servers, maps),
 * with every path inside `prefix`, so that an instance touches nothing of the system's nginx.
 */
export function nginxMainConfig(
  prefix: string,
  httpConfig: string,
  tuning: NginxTuning = {},
): string {
  const rlimit =
    tuning.workerRlimitNofile === undefined
      ? ''
      : `worker_rlimit_nofile ${tuning.workerRlimitNofile};\n`;
  return `${workerUserDirective()}daemon off;
worker_processes ${tuning.workerProcesses ?? 1};
${rlimit}pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events {
    worker_connections ${tuning.workerConnections ?? 4096};
}
http {
    default_type application/octet-stream;
    access_log ${prefix}/access.log;
    client_body_temp_path ${prefix}/client_body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;
${httpConfig}
}
`;
}

function tempPrefix(): string {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'reactometer-nginx-'));
  // Workers (nobody, when root starts nginx) must reach the temp folders nginx makes in here.
  chmodSync(prefix, 0o755);
  return prefix;
}

/** `nginx -t` on `httpConfig` wrapped by `nginxMainConfig`: whether it passed, and what it said. */
export function nginxConfigTest(httpConfig: string): { ok: boolean; output: string } {
  const bin = ensureNginx();
  const prefix = tempPrefix();
  try {
    const file = path.join(prefix, 'nginx.conf');
    writeFileSync(file, nginxMainConfig(prefix, httpConfig));
    const r = spawnSync(bin, ['-t', '-p', prefix, '-c', file], { encoding: 'utf8' });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
}

export interface NginxOptions {
  /** The inside of `http {}`; `prefix` is the instance's folder (for paths it needs). */
  readonly httpConfig: (prefix: string) => string;
  /** Ports the config listens on (on 127.0.0.1); start resolves when all accept connections. */
  readonly ports: readonly number[];
  readonly tuning?: NginxTuning;
}

export interface NginxProcess {
  readonly prefix: string;
  readonly pid: number;
  readonly process: ManagedProcess;
  /** The instance's error log so far (for a failing test's message). */
  errorLog(): string;
  /** Fast shutdown (SIGTERM: open connections, WebSockets included, are closed); removes the prefix. */
  stop(): Promise<void>;
}

export async function startNginx(options: NginxOptions): Promise<NginxProcess> {
  assertServersAllowed('nginx');
  const bin = ensureNginx();
  const prefix = tempPrefix();
  const file = path.join(prefix, 'nginx.conf');
  writeFileSync(file, nginxMainConfig(prefix, options.httpConfig(prefix), options.tuning));
  const errorLog = (): string => {
    try {
      return readFileSync(path.join(prefix, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  // Own process group: a stop reaches the master and its workers together.
  const proc = spawnManaged(bin, ['-p', prefix, '-c', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
    graceMs: 5_000,
  });
  let stderr = '';
  proc.child.stderr?.setEncoding('utf8');
  proc.child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  try {
    for (const port of options.ports) {
      await waitForPort(port, {
        what: 'nginx',
        timeoutMs: 10_000,
        check: () => {
          if (!proc.running())
            throw new Error(`nginx exited with ${proc.child.exitCode}: ${stderr}${errorLog()}`);
        },
      });
    }
  } catch (err) {
    await proc.stop({ signal: 'SIGKILL' });
    rmSync(prefix, { recursive: true, force: true });
    throw err;
  }
  return {
    prefix,
    pid: proc.pid,
    process: proc,
    errorLog,
    stop: async () => {
      await proc.stop();
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/** `systemd-analyze`, for checking unit files: Debian's systemd package, installed when missing. */
export function ensureSystemdAnalyze(log: (line: string) => void = () => {}): string {
  const found = spawnSync('which', ['systemd-analyze'], { encoding: 'utf8' });
  if (found.status === 0) return found.stdout.trim();
  if (!hasApt()) throw new Error('systemd-analyze is not installed (Debian: the systemd package)');
  log('installing systemd (for systemd-analyze) with apt-get (first run only)...');
  if (aptInstall(['systemd']) !== 0) throw new Error('installing systemd failed');
  return spawnSync('which', ['systemd-analyze'], { encoding: 'utf8' }).stdout.trim();
}
