/**
 * The @connections stand-in in its own process (connections-standin-host.ts), driven over IPC.
 * A benchmark runs the sender in its process and the stand-in in this one: the CPU each reports
 * is its own, and the stand-in's work does not slow the sender's event loop.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LatencyDistribution } from '../measure/distributions.js';
import { assertServersAllowed } from '../server-guard.js';
import type { ConnectionsStandinOptions, RateLimit, StandinStats } from './connections-standin.js';

const HOST_FILE = fileURLToPath(new URL('./connections-standin-host.ts', import.meta.url));

export type StandinRequest =
  | { readonly op: 'addConnections'; readonly id: number; readonly ids: string[] }
  | { readonly op: 'removeConnections'; readonly id: number; readonly ids: string[] }
  | { readonly op: 'setLatency'; readonly id: number; readonly latency: LatencyDistribution }
  | { readonly op: 'setRateLimit'; readonly id: number; readonly limit: RateLimit | null }
  | { readonly op: 'stats'; readonly id: number }
  | { readonly op: 'deliveryTimes'; readonly id: number }
  | { readonly op: 'resetCounts'; readonly id: number }
  | { readonly op: 'stop'; readonly id: number };

type Request = StandinRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, 'id'>
    : never
  : never;

export interface ConnectionsStandinProcess {
  readonly pid: number;
  readonly endpoint: string;
  addConnections(ids: readonly string[]): Promise<void>;
  removeConnections(ids: readonly string[]): Promise<void>;
  setLatency(latency: LatencyDistribution): Promise<void>;
  setRateLimit(limit: RateLimit | null): Promise<void>;
  stats(): Promise<StandinStats>;
  deliveryTimes(): Promise<number[]>;
  resetCounts(): Promise<void>;
  stop(): Promise<void>;
}

/** IPC messages are JSON: connection ids go over in slices of this many. */
const SLICE = 20_000;

export async function startConnectionsStandinProcess(
  options: ConnectionsStandinOptions = {},
): Promise<ConnectionsStandinProcess> {
  assertServersAllowed('the @connections stand-in');
  const { connections, ...rest } = options;
  const child: ChildProcess = fork(HOST_FILE, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, REACTOMETER_STANDIN_OPTIONS: JSON.stringify(rest) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ endpoint: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the @connections stand-in did not start in 30 s'));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the @connections stand-in exited (${code}) before it was ready`));
    });
    child.once('message', (m: { endpoint: string }) => {
      clearTimeout(timer);
      resolve(m);
    });
  });

  let nextId = 1;
  const request = <T>(req: Request): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error(`the @connections stand-in did not answer ${req.op} in 60 s`));
      }, 60_000);
      const onMessage = (m: { id: number; result?: unknown; error?: string }): void => {
        if (m.id !== id) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        if (m.error !== undefined) reject(new Error(m.error));
        else resolve(m.result as T);
      };
      child.on('message', onMessage);
      child.send({ ...req, id });
    });

  const inSlices = async (op: 'addConnections' | 'removeConnections', ids: readonly string[]) => {
    for (let i = 0; i < ids.length; i += SLICE)
      await request({ op, ids: ids.slice(i, i + SLICE) } as Request);
  };
  if (connections !== undefined) await inSlices('addConnections', [...connections]);

  return {
    pid: child.pid as number,
    endpoint: ready.endpoint,
    addConnections: (ids) => inSlices('addConnections', ids),
    removeConnections: (ids) => inSlices('removeConnections', ids),
    setLatency: (latency) => request({ op: 'setLatency', latency }),
    setRateLimit: (limit) => request({ op: 'setRateLimit', limit }),
    stats: () => request({ op: 'stats' }),
    deliveryTimes: () => request({ op: 'deliveryTimes' }),
    resetCounts: () => request({ op: 'resetCounts' }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await request({ op: 'stop' }).catch(() => undefined);
      await exited;
      clearTimeout(timer);
    },
  };
}
