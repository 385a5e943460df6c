import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { spawnManaged, type ManagedProcess } from './managed-process.js';
import { freePort, waitForPort } from './ports.js';
import { REPO_ROOT, TOOLS_BIN } from './paths.js';
import { assertServersAllowed } from './server-guard.js';

/** FerretDB v1.24.2 (SQLite backend), built from `tools/ferretdb` into `.tools/bin`. */
export const FERRETDB_BIN = path.join(TOOLS_BIN, 'ferretdb');

/**
 * Builds FerretDB if it is not there yet (idempotent). Needs Go and the Go module proxy; takes
 * a minute or two the first time. `tools/ferretdb/main.go` explains why it is not `go install`.
 */
export function ensureFerretDbBinary(log: (line: string) => void = () => {}): string {
  if (existsSync(FERRETDB_BIN)) return FERRETDB_BIN;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) {
    throw new Error(
      'FerretDB is not built and Go is not installed. Install Go (https://go.dev/doc/install, or ' +
        '`apt-get install golang`), or set MONGODB_URI to a MongoDB server.',
    );
  }
  log(`building FerretDB v1.24.2 into ${FERRETDB_BIN} (first run only)...`);
  mkdirSync(TOOLS_BIN, { recursive: true });
  const build = spawnSync('go', ['build', '-o', FERRETDB_BIN, '.'], {
    cwd: path.join(REPO_ROOT, 'tools', 'ferretdb'),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (build.status !== 0 || !existsSync(FERRETDB_BIN)) {
    throw new Error(`building FerretDB failed (go build exited with ${build.status})`);
  }
  return FERRETDB_BIN;
}

export interface FerretDbOptions {
  /** SQLite data folder; created if missing. Keep one per instance. */
  readonly dataDir: string;
  /** TCP port; a free one when omitted. */
  readonly port?: number;
  readonly host?: string;
  /**
   * SQLite's `synchronous` setting. `NORMAL` (default here) commits to the write-ahead log without
   * an fsync per transaction: a write survives a crash of FerretDB or of the droplet, not a power
   * cut, which is what MongoDB's default write concern (w:1, journal flushed every 100 ms) promises
   * too. `FULL` fsyncs every commit and is about 3x slower on parallel writes here (measured: 457
   * vs 1571 inserts/s). Env `FERRETDB_SQLITE_SYNC` overrides.
   */
  readonly sqliteSynchronous?: 'NORMAL' | 'FULL';
  /** Where FerretDB's own log lines go (default: dropped). */
  readonly onLog?: (line: string) => void;
}

export interface FerretDbProcess {
  readonly uri: string;
  readonly port: number;
  readonly dataDir: string;
  /** The running server's process id (undefined while stopped); benchmarks sample its CPU. */
  pid(): number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); safe to call twice. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data, e.g. after `stop()` in a fault test. */
  start(): Promise<void>;
}

/** Starts a FerretDB process on its own port and data folder and waits until it accepts connections. */
export async function startFerretDb(options: FerretDbOptions): Promise<FerretDbProcess> {
  assertServersAllowed('FerretDB');
  const bin = ensureFerretDbBinary(options.onLog);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  mkdirSync(options.dataDir, { recursive: true });
  const envSync = process.env.FERRETDB_SQLITE_SYNC?.toUpperCase();
  const synchronous =
    options.sqliteSynchronous ?? (envSync === 'FULL' || envSync === 'NORMAL' ? envSync : 'NORMAL');
  let current: ManagedProcess | null = null;

  const start = async (): Promise<void> => {
    if (current?.running()) return;
    // Own process group: a terminal's Ctrl-C goes to the launcher, which stops FerretDB only
    // after the droplet has finished its in-flight requests (otherwise they would get 503).
    const proc = spawnManaged(
      bin,
      [
        `--listen-addr=${host}:${port}`,
        `--sqlite-url=file:${options.dataDir}/?_pragma=synchronous(${synchronous})`,
        '--log-level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], graceMs: 5_000 },
    );
    proc.child.stderr?.setEncoding('utf8');
    proc.child.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim() !== '') options.onLog?.(line);
    });
    current = proc;
    try {
      await waitForPort(port, {
        host,
        what: 'FerretDB',
        timeoutMs: 15_000,
        check: () => {
          if (!proc.running())
            throw new Error(`FerretDB exited early with code ${proc.child.exitCode}`);
        },
      });
    } catch (err) {
      proc.signal('SIGKILL');
      throw err;
    }
  };

  await start();
  return {
    uri: `mongodb://${host}:${port}/`,
    port,
    dataDir: options.dataDir,
    pid: () => (current?.running() ? current.pid : undefined),
    stop: async () => {
      await current?.stop();
    },
    start,
  };
}
