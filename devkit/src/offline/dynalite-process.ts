/**
 * dynalite in a process of its own (the `dynalite` command, commands/dynalite.ts), for
 * measurements (its CPU then stays out of the process whose CPU per request is being measured)
 * and for the chaos run, which SIGKILLs it and starts it again on the same port and LevelDB data.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TableNames } from '@reactometer/serverless';
import { assertServersAllowed } from '../server-guard.js';

const COMMAND = fileURLToPath(new URL('../commands/dynalite.ts', import.meta.url));

export interface DynaliteProcess {
  /** The current process's pid (it changes with every `start()`). */
  readonly pid: number;
  readonly endpoint: string;
  readonly tables: TableNames;
  stop(): Promise<void>;
  /** SIGKILL (a crash: LevelDB is not closed). */
  kill(): Promise<void>;
  /** Starts it again on the same port and data folder (after `kill()` or `stop()`). */
  start(): Promise<void>;
}

export interface DynaliteProcessOptions {
  /** LevelDB folder; omitted: in memory (a restart then starts empty). */
  readonly dataDir?: string;
  /** Default: a free port. */
  readonly port?: number;
}

interface Running {
  readonly child: ChildProcess;
  readonly endpoint: string;
}

/** Starts dynalite with the tables of infra/tables.yml, named `tables`. */
export async function startDynaliteProcess(
  tables: TableNames,
  options: DynaliteProcessOptions = {},
): Promise<DynaliteProcess> {
  assertServersAllowed('dynalite');
  let running = await spawnDynalite(tables, options.port ?? 0, options.dataDir);
  const port = Number(new URL(running.endpoint).port);
  const exited = (child: ChildProcess): boolean =>
    child.exitCode !== null || child.signalCode !== null;
  const waitExit = (child: ChildProcess): Promise<void> =>
    new Promise((resolve) => {
      if (exited(child)) return resolve();
      child.once('exit', () => resolve());
    });
  return {
    get pid() {
      return running.child.pid as number;
    },
    endpoint: running.endpoint,
    tables,
    stop: async () => {
      const { child } = running;
      if (exited(child)) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGTERM');
      await waitExit(child);
      clearTimeout(timer);
    },
    kill: async () => {
      const { child } = running;
      if (exited(child)) return;
      child.kill('SIGKILL');
      await waitExit(child);
    },
    start: async () => {
      if (!exited(running.child)) return;
      running = await spawnDynalite(tables, port, options.dataDir);
    },
  };
}

async function spawnDynalite(
  tables: TableNames,
  port: number,
  dataDir: string | undefined,
): Promise<Running> {
  const child = fork(
    COMMAND,
    [
      ...(dataDir === undefined ? [] : ['--data-dir', dataDir]),
      '--port',
      String(port),
      '--states',
      tables.states,
      '--counts',
      tables.counts,
      '--connections',
      tables.connections,
      '--fanout',
      tables.fanout,
    ],
    {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ endpoint: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('dynalite did not start in 60 s'));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dynalite exited (${code}) before it was ready`));
    });
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as { endpoint: string });
    });
  });
  return { child, endpoint: ready.endpoint };
}
