/**
 * Redis from Debian's packages (`redis-server`), started by the toolkit for the droplet's
 * scale-out (cross-process broadcast, the store lock): a data folder of its own, a free port, in
 * the foreground as this process's child. The package's own service is not used. `kill()` and
 * `start()` are there for fault tests: a SIGKILL, then the same port again.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { aptInstall, hasApt } from './apt.js';
import { spawnManaged, type ManagedProcess } from './managed-process.js';
import { freePort, waitForPort } from './ports.js';
import { assertServersAllowed } from './server-guard.js';

export const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

/** Installs Debian's redis-server when it is missing (idempotent); returns the binary. */
export function ensureRedis(log: (line: string) => void = () => {}): string {
  if (existsSync(REDIS_BIN)) return REDIS_BIN;
  if (!hasApt()) {
    throw new Error(
      `redis-server is not installed at ${REDIS_BIN}. Install it, or set REDIS_SERVER_BIN.`,
    );
  }
  log('installing redis-server with apt-get (first run only)...');
  const status = aptInstall(['redis-server']);
  if (status !== 0 || !existsSync(REDIS_BIN)) {
    throw new Error(
      `installing redis-server failed (apt-get exited with ${status}); install the "redis-server" package by hand.`,
    );
  }
  return REDIS_BIN;
}

export interface RedisOptions {
  /** Data folder (created if missing); a temporary one, removed by `stop()`, when omitted. */
  readonly dataDir?: string;
  /** TCP port; a free one when omitted. */
  readonly port?: number;
  readonly host?: string;
  /** Redis's own log lines (default: dropped). */
  readonly onLog?: (line: string) => void;
}

export interface RedisProcess {
  /** `redis://host:port` (REDIS_URL). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The server's pid, undefined while it is down. */
  pid(): number | undefined;
  /** SIGKILL (a crash: nothing flushed, every client cut); `start()` brings it back. */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder (after `kill()`); a no-op while it runs. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; removes a temporary data folder. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisProcess> {
  assertServersAllowed('Redis');
  const bin = ensureRedis(options.onLog);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'reactometer-redis-'));
  mkdirSync(dataDir, { recursive: true });
  // Pub/sub and short leases only: nothing here needs to survive a restart, so no RDB snapshot
  // and no AOF (a restarted Redis starts empty, as a failed-over managed one may).
  const args = [
    '--port',
    String(port),
    '--bind',
    host,
    '--dir',
    dataDir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--protected-mode',
    'no',
    '--logfile',
    '',
  ];
  let current: ManagedProcess | null = null;

  const start = async (): Promise<void> => {
    if (current?.running()) return;
    const proc = spawnManaged(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], graceMs: 5_000 });
    for (const stream of [proc.child.stdout, proc.child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim() !== '') options.onLog?.(line);
      });
    }
    current = proc;
    try {
      await waitForPort(port, {
        host,
        what: 'Redis',
        timeoutMs: 10_000,
        check: () => {
          if (!proc.running()) throw new Error(`redis-server exited with ${proc.child.exitCode}`);
        },
      });
    } catch (err) {
      proc.signal('SIGKILL');
      throw err;
    }
  };

  await start();
  let stopped = false;
  return {
    url: `redis://${host}:${port}`,
    port,
    dataDir,
    pid: () => (current?.running() ? current.pid : undefined),
    kill: async () => {
      await current?.stop({ signal: 'SIGKILL', graceMs: 0 });
    },
    start,
    stop: async () => {
      await current?.stop();
      if (temporary && !stopped) rmSync(dataDir, { recursive: true, force: true });
      stopped = true;
    },
  };
}
