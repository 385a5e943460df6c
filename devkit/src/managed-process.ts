/**
 * Child processes the toolkit starts and must never leave behind: each runs in its own process
 * group (so a stop reaches whatever it spawned in turn, such as npm's children), is killed when
 * this process exits, and stops with SIGTERM (or the signal given) followed by SIGKILL after a
 * grace period.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Settles when the process exits, for whatever reason. */
  readonly exited: Promise<ExitStatus>;
  running(): boolean;
  /** Sends `signal` to the whole group (a no-op once it exited). */
  signal(signal: NodeJS.Signals): void;
  /** Signals the group, then SIGKILLs it after `graceMs`; resolves once the process exited. */
  stop(options?: { readonly signal?: NodeJS.Signals; readonly graceMs?: number }): Promise<void>;
}

export interface SpawnManagedOptions extends Omit<SpawnOptions, 'detached'> {
  /** Own process group (default true): a stop signals the child and everything it started. */
  readonly group?: boolean;
  /** Default SIGTERM. */
  readonly stopSignal?: NodeJS.Signals;
  /** Time between the stop signal and SIGKILL (default 10 s). */
  readonly graceMs?: number;
}

export function spawnManaged(
  command: string,
  args: readonly string[],
  options: SpawnManagedOptions = {},
): ManagedProcess {
  const { group = true, stopSignal = 'SIGTERM', graceMs = 10_000, ...spawnOptions } = options;
  const child = spawn(command, [...args], { ...spawnOptions, detached: group });
  if (child.pid === undefined) {
    // spawn failed synchronously (ENOENT arrives as an 'error' event right after).
    child.on('error', () => undefined);
  }
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });

  const signal = (sig: NodeJS.Signals): void => {
    if (!running() || child.pid === undefined) return;
    try {
      if (group) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // Already gone between the check and the kill.
    }
  };
  // Detached children outlive their parent: make sure these do not.
  const killOnExit = (): void => signal('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  let stopping: Promise<void> | undefined;
  const stop = (opts: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> =>
    (stopping ??= (async () => {
      if (!running()) return;
      signal(opts.signal ?? stopSignal);
      const timer = setTimeout(() => signal('SIGKILL'), opts.graceMs ?? graceMs);
      await exited;
      clearTimeout(timer);
    })());

  return { child, pid: child.pid ?? -1, exited, running, signal, stop };
}
