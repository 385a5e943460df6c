import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import hdr from 'hdr-histogram-js';
import { isPortOpen } from '../../scripts/lib/free-port.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const LEGACY_ROOT = path.resolve(here, '..');

export interface Histogram {
  record(valueMicros: number): void;
  summary(): LatencySummary;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** An HDR histogram in microseconds (1 µs to 60 s, 3 significant digits), summarised in ms. */
export function createHistogram(): Histogram {
  const h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const ms = (micros: number) => Math.round(micros / 10) / 100;
  return {
    record: (v) => h.recordValue(Math.max(1, Math.round(v))),
    summary: () => ({
      count: h.totalCount,
      p50Ms: ms(h.getValueAtPercentile(50)),
      p90Ms: ms(h.getValueAtPercentile(90)),
      p99Ms: ms(h.getValueAtPercentile(99)),
      maxMs: ms(h.maxValue),
      meanMs: ms(h.mean),
    }),
  };
}

/** Resident set size of a process, in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU time (user + system) of a process so far, in milliseconds, from /proc (Linux). */
export function cpuMillis(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

export interface DropletProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts the droplet as its own process (so its memory and CPU are measured alone). `node --import
 * tsx` rather than the tsx CLI: the CLI runs the program in a second process, which would make
 * the measured pid the wrapper's.
 */
export async function startDropletProcess(
  env: Record<string, string>,
  port: number,
): Promise<DropletProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      'src/main.ts',
    ],
    {
      cwd: LEGACY_ROOT,
      env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const deadline = Date.now() + 30_000;
  while (!(await isPortOpen(port))) {
    if (child.exitCode !== null) throw new Error(`droplet exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('droplet did not start within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    pid: child.pid as number,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
