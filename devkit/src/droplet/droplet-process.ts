/**
 * The droplet as its own process, the way it runs in production (`main.ts`), so that benchmarks
 * and the comparison measure its CPU and memory alone. `node --import tsx` rather than the tsx
 * CLI: the CLI runs the program in a second process, which would make the measured pid the
 * wrapper's.
 */
import path from 'node:path';
import { spawnManaged, type ManagedProcess } from '../managed-process.js';
import { freePort, waitForPort } from '../ports.js';
import { assertServersAllowed } from '../server-guard.js';
import { DROPLET_DIR } from '../workspaces.js';

export interface DropletProcess {
  readonly process: ManagedProcess;
  readonly pid: number;
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** SIGTERM (the droplet drains and closes its sockets), SIGKILL after 20 s. */
  stop(): Promise<void>;
}

export interface DropletProcessOptions {
  /** Variables on top of this process's environment (MONGODB_URI, SLACK_SIGNING_SECRET, ...). */
  readonly env: Readonly<Record<string, string>>;
  /** Default: a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Extra node flags, e.g. `--cpu-prof` (env BENCH_NODE_FLAGS adds more). */
  readonly nodeFlags?: readonly string[];
  /** Where its stderr goes (default: this process's stderr); stdout (the JSON log) is dropped. */
  readonly stderr?: 'inherit' | 'ignore';
  readonly readyTimeoutMs?: number;
}

export async function startDropletProcess(options: DropletProcessOptions): Promise<DropletProcess> {
  assertServersAllowed('the droplet process');
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const flags = [
    ...(options.nodeFlags ?? []),
    ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
  ];
  const proc = spawnManaged(
    process.execPath,
    [...flags, '--import', 'tsx', path.join(DROPLET_DIR, 'src', 'main.ts')],
    {
      cwd: DROPLET_DIR,
      env: { ...process.env, ...options.env, PORT: String(port), HOST: host },
      stdio: ['ignore', 'ignore', options.stderr ?? 'inherit'],
      // The droplet stops itself gracefully on SIGTERM; no need to signal a group.
      group: false,
      graceMs: 20_000,
    },
  );
  try {
    await waitForPort(port, {
      host,
      what: 'the droplet',
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      check: () => {
        if (!proc.running()) throw new Error(`the droplet exited with ${proc.child.exitCode}`);
      },
    });
  } catch (err) {
    await proc.stop({ signal: 'SIGKILL' });
    throw err;
  }
  return {
    process: proc,
    pid: proc.pid,
    port,
    httpUrl: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/ws`,
    stop: () => proc.stop(),
  };
}
