/**
 * PostgreSQL from Debian's packages, as FerretDB's backend: a cluster of its own per data folder,
 * on a free port, started and stopped by the toolkit. PostgreSQL refuses to run as root, so when
 * this process is root the cluster belongs to the unprivileged `postgres` user that the Debian
 * package creates, and every PostgreSQL command is exec'd through `setpriv` (no intermediate
 * process: the pid the toolkit holds, and measures, is the postmaster itself).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { aptInstall, hasApt } from './apt.js';
import { spawnManaged, type ManagedProcess } from './managed-process.js';
import { freePort, waitForPort } from './ports.js';
import { assertServersAllowed } from './server-guard.js';

/** The account PostgreSQL runs as when this process is root (created by Debian's package). */
const SERVICE_USER = 'postgres';
/** The superuser initdb creates; FerretDB connects as it (trust auth, loopback only). */
const SUPERUSER = 'postgres';

/** Where Debian's packages put the server binaries: /usr/lib/postgresql/<major>/bin. */
const DEBIAN_ROOT = '/usr/lib/postgresql';

/** The newest installed server's bin folder, or null (env POSTGRES_BIN_DIR overrides). */
export function findPostgresBinDir(): string | null {
  const override = process.env.POSTGRES_BIN_DIR;
  if (override !== undefined && override !== '') {
    return existsSync(path.join(override, 'postgres')) ? override : null;
  }
  if (!existsSync(DEBIAN_ROOT)) return null;
  const majors = readdirSync(DEBIAN_ROOT)
    .filter((v) => /^\d+$/.test(v) && existsSync(path.join(DEBIAN_ROOT, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? null : path.join(DEBIAN_ROOT, majors[0], 'bin');
}

/**
 * Installs Debian's PostgreSQL server when none is there (idempotent), and returns its bin
 * folder. The package also creates the `postgres` account this toolkit runs it as when root.
 */
export function ensurePostgres(log: (line: string) => void = () => {}): string {
  const found = findPostgresBinDir();
  if (found !== null) return found;
  if (!hasApt()) {
    throw new Error(
      'PostgreSQL is not installed. Install its server package (Debian/Ubuntu: `apt-get install ' +
        'postgresql`), set POSTGRES_BIN_DIR to its bin folder, or use FERRETDB_BACKEND=sqlite.',
    );
  }
  log('installing PostgreSQL with apt-get (first run only)...');
  const status = aptInstall(['postgresql']);
  const bin = findPostgresBinDir();
  if (status !== 0 || bin === null) {
    throw new Error(
      `installing PostgreSQL failed (apt-get exited with ${status}); install the "postgresql" package by hand.`,
    );
  }
  return bin;
}

interface Account {
  readonly uid: number;
  readonly gid: number;
}

/** The account PostgreSQL runs as: `postgres` when we are root, otherwise ourselves (null). */
function serviceAccount(): Account | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string): number => {
    const r = spawnSync('id', [flag, SERVICE_USER], { encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(
        `PostgreSQL cannot run as root and there is no "${SERVICE_USER}" account (Debian's postgresql package creates it)`,
      );
    }
    return Number(r.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

/** Whether `account` may reach `dir` (every ancestor searchable by it). */
function traversable(dir: string, account: Account): boolean {
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const st = statSync(d);
    const ok =
      st.mode & 0o001 ||
      (st.uid === account.uid && st.mode & 0o100) ||
      (st.gid === account.gid && st.mode & 0o010);
    if (!ok) return false;
    if (d === path.dirname(d)) return true;
  }
}

/** `command args` run as `account` (exec'd, not forked, by setpriv), or as we are. */
function asAccount(
  account: Account | null,
  command: string,
  args: readonly string[],
): [string, string[]] {
  if (account === null) return [command, [...args]];
  return [
    'setpriv',
    [
      `--reuid=${account.uid}`,
      `--regid=${account.gid}`,
      '--init-groups',
      '--inh-caps=-all',
      command,
      ...args,
    ],
  ];
}

export interface PostgresOptions {
  /** The cluster's folder; initialised when empty or missing. */
  readonly dataDir: string;
  /** TCP port on 127.0.0.1; a free one when omitted. */
  readonly port?: number;
  /** PostgreSQL's own log lines (default: dropped). */
  readonly onLog?: (line: string) => void;
}

export interface PostgresProcess {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  /** The cluster's folder actually used (see `startPostgres`). */
  readonly dataDir: string;
  /** The postmaster's pid (undefined while stopped). */
  pid(): number | undefined;
  /** Fast shutdown (SIGINT: open sessions are ended), SIGKILL after 10 s; safe to call twice. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** SIGKILLs the postmaster and every backend at once (a crash); `start()` recovers the data. */
  kill(): Promise<void>;
}

/**
 * Starts a PostgreSQL cluster on `dataDir` (created with initdb the first time) bound to
 * 127.0.0.1 only, with trust authentication: nothing but this machine's processes can reach it,
 * and it holds only local test and development data. When this process is root and the unprivileged
 * account cannot reach `dataDir`'s parent (a checkout in a 0700 folder), the cluster goes to a
 * folder of its own under the system's temp dir instead, named after `dataDir` so that it persists.
 */
export async function startPostgres(options: PostgresOptions): Promise<PostgresProcess> {
  assertServersAllowed('PostgreSQL');
  const bin = ensurePostgres(options.onLog);
  const account = serviceAccount();
  let dataDir = path.resolve(options.dataDir);
  if (account !== null) {
    // A temp folder from mkdtemp is 0700: let the account pass through it (search only; the
    // cluster folder itself stays 0700 and the account's own).
    const parent = path.dirname(dataDir);
    mkdirSync(parent, { recursive: true });
    const st = statSync(parent);
    if (st.uid === process.getuid?.() && (st.mode & 0o001) === 0)
      chmodSync(parent, (st.mode & 0o7777) | 0o001);
  }
  if (account !== null && !traversable(dataDir, account)) {
    const tag = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
    dataDir = path.join(os.tmpdir(), `reactometer-postgres-${tag}`);
    options.onLog?.(
      `the "${SERVICE_USER}" account cannot reach ${options.dataDir}; using ${dataDir} instead`,
    );
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (account !== null) chownSync(dataDir, account.uid, account.gid);

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    // --no-sync: a crash during initdb only means running it again; C.UTF-8 exists everywhere.
    const [cmd, args] = asAccount(account, path.join(bin, 'initdb'), [
      `--pgdata=${dataDir}`,
      `--username=${SUPERUSER}`,
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ]);
    const init = spawnSync(cmd, args, { encoding: 'utf8' });
    if (init.status !== 0) {
      throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
    }
  }

  const port = options.port ?? (await freePort());
  let current: ManagedProcess | null = null;
  const start = async (): Promise<void> => {
    if (current?.running()) return;
    const [cmd, args] = asAccount(account, path.join(bin, 'postgres'), [
      '-D',
      dataDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-p',
      String(port),
      // No Unix socket: the default folder (/var/run/postgresql) may not exist or be ours.
      '-c',
      'unix_socket_directories=',
      // A commit is acknowledged only once its WAL is fsynced: the droplet's inbox deletes an
      // event once the store has acknowledged it, so an acknowledged write must survive a SIGKILL
      // of PostgreSQL (the chaos run does that), as MongoDB's journaled write concern does.
      '-c',
      'synchronous_commit=on',
      '-c',
      'max_connections=200',
    ]);
    // Own process group (as FerretDB): a terminal's Ctrl-C reaches the launcher, which stops the
    // database only after the droplet has drained.
    const proc = spawnManaged(cmd, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      stopSignal: 'SIGINT',
      graceMs: 10_000,
    });
    proc.child.stderr?.setEncoding('utf8');
    proc.child.stderr?.on('data', (chunk: string) => {
      // LOG lines (start-up, checkpoints, shutdown) are routine; warnings and errors are not.
      for (const line of chunk.split('\n'))
        if (line.trim() !== '' && !/\bLOG: {2}/.test(line)) options.onLog?.(line);
    });
    current = proc;
    try {
      await waitForPort(port, {
        what: 'PostgreSQL',
        timeoutMs: 30_000,
        check: () => {
          if (!proc.running())
            throw new Error(`PostgreSQL exited early with code ${proc.child.exitCode}`);
        },
      });
      // The port opens before recovery ends ("the database system is starting up"): wait
      // until PostgreSQL accepts connections, so that the first psql or FerretDB query works.
      await waitAcceptingConnections(bin, port, proc);
    } catch (err) {
      proc.signal('SIGKILL');
      throw err;
    }
  };

  await start();
  return {
    url: `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    pid: () => (current?.running() ? current.pid : undefined),
    stop: async () => {
      await current?.stop();
    },
    start,
    // The whole process group, so that no backend survives holding the shared memory: the next
    // start then runs PostgreSQL's crash recovery from the WAL, as after a power cut.
    kill: async () => {
      await current?.stop({ signal: 'SIGKILL', graceMs: 0 });
    },
  };
}

/** Polls `pg_isready` until the server accepts connections (30 s at most). */
async function waitAcceptingConnections(
  bin: string,
  port: number,
  proc: ManagedProcess,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = spawnSync(
      path.join(bin, 'pg_isready'),
      ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', SUPERUSER],
      { encoding: 'utf8' },
    );
    if (r.status === 0) return;
    if (!proc.running())
      throw new Error(`PostgreSQL exited early with code ${proc.child.exitCode}`);
    if (Date.now() > deadline) throw new Error('PostgreSQL did not accept connections within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
