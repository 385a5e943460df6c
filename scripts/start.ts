/**
 * `npm start`: runs every part of reactometer that exists, with embedded defaults, and stops them
 * all on Ctrl-C. Each part is its own process group, so nothing is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { isPortOpen } from './lib/free-port.js';
import { REPO_ROOT } from './lib/paths.js';
import { ensureFerretDbBinary } from './lib/ferretdb.js';

interface Part {
  readonly name: string;
  readonly args: string[];
  readonly ports: { readonly name: string; readonly port: number; readonly env: string }[];
}

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const parts: Part[] = [
  {
    name: 'droplet',
    args: ['run', 'legacy'],
    ports: [{ name: 'droplet HTTP + WebSocket', port: env('PORT', 3000), env: 'PORT' }],
  },
];

async function main(): Promise<void> {
  ensureFerretDbBinary((line) => console.log(`[start] ${line}`));
  for (const part of parts) {
    for (const p of part.ports) {
      if (await isPortOpen(p.port)) {
        console.error(
          `[start] port ${p.port} (${p.name}) is already in use. Stop what holds it, or set ${p.env}=<another port>.`,
        );
        process.exit(1);
      }
    }
  }
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of children) {
      if (child.exitCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    const force = setTimeout(() => {
      for (const child of children)
        if (child.exitCode === null && child.pid)
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
      process.exit(code);
    }, 10_000);
    force.unref();
    Promise.all(
      children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))),
    ).then(() => process.exit(code));
  };
  for (const part of parts) {
    const child = spawn('npm', part.args, {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      detached: true,
      env: process.env,
    });
    children.push(child);
    child.once('exit', (code) => {
      if (!stopping) {
        console.error(`[start] ${part.name} exited with ${code}; stopping everything`);
        stopAll(code ?? 1);
      }
    });
  }
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
}

main().catch((err: unknown) => {
  console.error(`[start] ${(err as Error).message}`);
  process.exit(1);
});
