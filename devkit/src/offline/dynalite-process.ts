/**
 * dynalite in a process of its own (the `dynalite` command, commands/dynalite.ts), for
 * measurements: its CPU then stays out of the process whose CPU per request is being measured.
 */
import { fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TableNames } from '@reactometer/serverless';
import { assertServersAllowed } from '../server-guard.js';

const COMMAND = fileURLToPath(new URL('../commands/dynalite.ts', import.meta.url));

export interface DynaliteProcess {
  readonly pid: number;
  readonly endpoint: string;
  readonly tables: TableNames;
  stop(): Promise<void>;
}

/** Starts dynalite on a free port with the tables of infra/tables.yml, named `tables`. */
export async function startDynaliteProcess(tables: TableNames): Promise<DynaliteProcess> {
  assertServersAllowed('dynalite');
  const child = fork(
    COMMAND,
    [
      '--port',
      '0',
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
  return {
    pid: child.pid as number,
    endpoint: ready.endpoint,
    tables,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
