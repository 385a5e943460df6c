/**
 * The local FerretDB that `npm run legacy` and `npm run reconcile` share when MONGODB_URI is
 * unset: one data folder under `.data/` (PostgreSQL's cluster in its `postgresql/` subfolder, or
 * SQLite's files), and a small state file so that the reconcile command finds the instance a
 * running launcher started instead of starting a second one on the same data.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startFerretDb, type FerretDbProcess } from '../ferretdb.js';
import { freePort, isPortOpen } from '../ports.js';
import { DATA_DIR } from '../paths.js';

export const DEV_FERRETDB_DATA_DIR = path.join(DATA_DIR, 'ferretdb-legacy');
const STATE_FILE = path.join(DATA_DIR, 'ferretdb-legacy.json');
/** The port a MongoDB client expects by default; used when it is free. */
export const DEFAULT_MONGODB_PORT = 27017;

interface DevDbState {
  readonly uri: string;
  readonly port: number;
  /** The process that started (and will stop) the instance. */
  readonly ownerPid: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The URI of the dev FerretDB a running launcher owns, or null if there is none. */
export async function findRunningDevFerretDb(): Promise<string | null> {
  if (!existsSync(STATE_FILE)) return null;
  try {
    const state = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as DevDbState;
    if (isAlive(state.ownerPid) && (await isPortOpen(state.port))) return state.uri;
  } catch {
    // A truncated or foreign file: treat as absent.
  }
  return null;
}

/**
 * Starts FerretDB on the dev data folder, on 27017 when that port is free (so that mongosh and
 * Compass work without arguments) and on any free port otherwise.
 */
export async function startDevFerretDb(log: (line: string) => void): Promise<FerretDbProcess> {
  const preferredFree = !(await isPortOpen(DEFAULT_MONGODB_PORT));
  const port = preferredFree ? DEFAULT_MONGODB_PORT : await freePort();
  if (!preferredFree)
    log(`port ${DEFAULT_MONGODB_PORT} is taken; starting FerretDB on ${port} instead`);
  const ferret = await startFerretDb({
    dataDir: DEV_FERRETDB_DATA_DIR,
    port,
    // FerretDB warns about every command it lacks (the driver's endSessions at each close);
    // only errors and its own plain lines are worth a developer's attention.
    onLog: (line) => {
      if (!/level=(DEBUG|INFO|WARN)\b/.test(line)) log(line);
    },
  });
  const state: DevDbState = { uri: ferret.uri, port: ferret.port, ownerPid: process.pid };
  writeFileSync(STATE_FILE, `${JSON.stringify(state)}\n`);
  return {
    ...ferret,
    stop: async () => {
      rmSync(STATE_FILE, { force: true });
      await ferret.stop();
    },
  };
}
