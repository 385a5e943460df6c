import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnManaged, type ManagedProcess } from './managed-process.js';
import { freePort, waitForPort } from './ports.js';
import { REPO_ROOT, TOOLS_BIN } from './paths.js';
import { findPostgresBinDir, startPostgres, type PostgresProcess } from './postgres.js';
import { processTree } from './measure/proc-stats.js';
import { assertServersAllowed } from './server-guard.js';

const FERRETDB_SOURCE = path.join(REPO_ROOT, 'tools', 'ferretdb');

/**
 * FerretDB v1.24.2 (PostgreSQL and SQLite backends), built from `tools/ferretdb` into
 * `.tools/bin`. The name carries a hash of the sources, so that a checkout whose `main.go` changed
 * (new flags) builds anew instead of running a stale binary.
 */
export const FERRETDB_BIN = path.join(
  TOOLS_BIN,
  `ferretdb-${createHash('sha256')
    .update(
      ['main.go', 'go.mod', 'go.sum']
        .map((f) => readFileSync(path.join(FERRETDB_SOURCE, f), 'utf8'))
        .join('\0'),
    )
    .digest('hex')
    .slice(0, 12)}`,
);

/** Which storage FerretDB uses. */
export type FerretDbBackend = 'postgresql' | 'sqlite';

/**
 * The backend when none is asked for: env `FERRETDB_BACKEND`, else PostgreSQL. Measured here
 * (`npm run bench -w legacy-server -- --phases ack,ceiling`), FerretDB on SQLite spends 29-32 ms
 * of CPU per Slack event against 5-6 ms for FerretDB and PostgreSQL together, and caps the
 * droplet's ingest at 25 events/s against 50-100; SQLite stays selectable for comparison.
 */
export function defaultFerretDbBackend(): FerretDbBackend {
  const env = process.env.FERRETDB_BACKEND?.toLowerCase();
  if (env === undefined || env === '' || env === 'postgresql' || env === 'postgres')
    return 'postgresql';
  if (env === 'sqlite') return 'sqlite';
  throw new Error(`FERRETDB_BACKEND: must be postgresql or sqlite (got "${env}")`);
}

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
    cwd: FERRETDB_SOURCE,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (build.status !== 0 || !existsSync(FERRETDB_BIN)) {
    throw new Error(`building FerretDB failed (go build exited with ${build.status})`);
  }
  return FERRETDB_BIN;
}

export interface FerretDbOptions {
  /**
   * Data folder, created if missing; keep one per instance. SQLite's files go straight in it;
   * PostgreSQL's cluster goes in its `postgresql/` subfolder.
   */
  readonly dataDir: string;
  /** Default: `defaultFerretDbBackend()` (PostgreSQL unless FERRETDB_BACKEND says otherwise). */
  readonly backend?: FerretDbBackend;
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
  /** Where FerretDB's (and PostgreSQL's) own log lines go (default: dropped). */
  readonly onLog?: (line: string) => void;
}

export interface FerretDbProcess {
  readonly uri: string;
  readonly port: number;
  readonly dataDir: string;
  readonly backend: FerretDbBackend;
  /** The PostgreSQL backend's URL (psql), or undefined on SQLite. */
  readonly postgresUrl: string | undefined;
  /** FerretDB's process id (undefined while stopped). */
  pid(): number | undefined;
  /**
   * Every process of the database: FerretDB, and with PostgreSQL its postmaster and backends
   * (read at each call: backends come and go). Benchmarks sum their CPU.
   */
  pids(): number[];
  /** Stops FerretDB (SIGTERM, then SIGKILL after 5 s), then its PostgreSQL; safe to call twice. */
  stop(): Promise<void>;
  /** Starts both again on the same ports and data, e.g. after `stop()` in a fault test. */
  start(): Promise<void>;
  /**
   * SIGKILLs FerretDB and its PostgreSQL (a database crash: nothing is flushed or closed);
   * `start()` brings both back on the same data, as the project starts them.
   */
  kill(): Promise<void>;
}

/**
 * FerretDB v1.24 on PostgreSQL pushes an equality filter down as `_jsonb->'_id' @> '"value"'`, and
 * the btree index it creates on `_jsonb->'_id'` cannot serve `@>`: every `findOne({_id})`, and the
 * read half of every update, is a sequential scan of the collection (its `explain` shows `Seq
 * Scan`), so the cost of a Slack event grew with the number of stored reactions. MongoDB answers
 * the same queries from its `_id` index. To make the local stand-in behave like MongoDB here, an
 * event trigger gives every table FerretDB creates a GIN index on `_jsonb->'_id'`
 * (`jsonb_path_ops`, which serves `@>`), and the reaction states also one on `baseEmoji` (the
 * recount of a stale pending marker). `fastupdate = off`: with GIN's pending list every lookup
 * would also scan the entries inserted since the last vacuum, so lookups slowed down after a bulk
 * load; off, an insert updates the index at once, like a btree. Production (real MongoDB) needs
 * nothing of this.
 */
export const ID_LOOKUP_INDEX_SQL = `
CREATE OR REPLACE FUNCTION reactometer_index_lookups(tbl regclass) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = tbl AND attname = '_jsonb') THEN
    RETURN;
  END IF;
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> ''_id'') jsonb_path_ops) WITH (fastupdate = off)',
    'rm_id_' || substr(md5(tbl::text), 1, 16), tbl);
  IF tbl::text LIKE '%reaction_states%' THEN
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> ''baseEmoji'') jsonb_path_ops) WITH (fastupdate = off)',
      'rm_be_' || substr(md5(tbl::text), 1, 16), tbl);
  END IF;
END $fn$;
CREATE OR REPLACE FUNCTION reactometer_index_new_tables() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'table' LOOP
    PERFORM reactometer_index_lookups(r.objid::regclass);
  END LOOP;
END $fn$;
DROP EVENT TRIGGER IF EXISTS reactometer_index_new_tables;
CREATE EVENT TRIGGER reactometer_index_new_tables ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION reactometer_index_new_tables();
SELECT reactometer_index_lookups(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema');
`;

/** Runs `sql` in the cluster with psql (throws with psql's message on failure). */
export function runPostgresSql(url: string, sql: string): void {
  const bin = findPostgresBinDir();
  if (bin === null) throw new Error('PostgreSQL is running but its psql was not found');
  const r = spawnSync(
    path.join(bin, 'psql'),
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
}

/** Installs `ID_LOOKUP_INDEX_SQL` in the cluster (idempotent). */
function indexIdLookups(postgres: PostgresProcess): void {
  runPostgresSql(postgres.url, ID_LOOKUP_INDEX_SQL);
}

/** Starts a FerretDB process on its own port and data folder and waits until it accepts connections. */
export async function startFerretDb(options: FerretDbOptions): Promise<FerretDbProcess> {
  assertServersAllowed('FerretDB');
  const bin = ensureFerretDbBinary(options.onLog);
  const backend = options.backend ?? defaultFerretDbBackend();
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  mkdirSync(options.dataDir, { recursive: true });
  const envSync = process.env.FERRETDB_SQLITE_SYNC?.toUpperCase();
  const synchronous =
    options.sqliteSynchronous ?? (envSync === 'FULL' || envSync === 'NORMAL' ? envSync : 'NORMAL');
  const postgres: PostgresProcess | null =
    backend === 'postgresql'
      ? await startPostgres({
          dataDir: path.join(options.dataDir, 'postgresql'),
          ...(options.onLog ? { onLog: options.onLog } : {}),
        })
      : null;
  if (postgres !== null) {
    try {
      indexIdLookups(postgres);
    } catch (err) {
      // PostgreSQL runs in its own process group: nobody else would stop it.
      await postgres.stop();
      throw err;
    }
  }
  const storage =
    postgres !== null
      ? ['--handler=postgresql', `--postgresql-url=${postgres.url}`]
      : [
          '--handler=sqlite',
          `--sqlite-url=file:${options.dataDir}/?_pragma=synchronous(${synchronous})`,
        ];
  let current: ManagedProcess | null = null;

  const start = async (): Promise<void> => {
    await postgres?.start();
    if (current?.running()) return;
    // Own process group: a terminal's Ctrl-C goes to the launcher, which stops FerretDB only
    // after the droplet has finished its in-flight requests (otherwise they would get 503).
    const proc = spawnManaged(
      bin,
      [`--listen-addr=${host}:${port}`, ...storage, '--log-level=warn'],
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

  try {
    await start();
  } catch (err) {
    await postgres?.stop();
    throw err;
  }
  const ferretPid = (): number | undefined => (current?.running() ? current.pid : undefined);
  return {
    uri: `mongodb://${host}:${port}/`,
    port,
    dataDir: options.dataDir,
    backend,
    postgresUrl: postgres?.url,
    pid: ferretPid,
    pids: () => {
      const pg = postgres?.pid();
      return [ferretPid(), ...(pg === undefined ? [] : processTree(pg))].filter(
        (p): p is number => p !== undefined,
      );
    },
    stop: async () => {
      await current?.stop();
      await postgres?.stop();
    },
    start,
    kill: async () => {
      await Promise.all([current?.stop({ signal: 'SIGKILL', graceMs: 0 }), postgres?.kill()]);
    },
  };
}
