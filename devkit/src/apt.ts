/**
 * Debian packages the toolkit installs when the machine lacks them (PostgreSQL, nginx, systemd's
 * analyzer): `apt-get update` then `apt-get install`, through sudo unless root. Services that a
 * package would start (nginx on port 80) are not wanted: the toolkit starts its own instances.
 */
import { spawnSync } from 'node:child_process';

/** Whether apt-get is there to install with. */
export function hasApt(): boolean {
  return spawnSync('which', ['apt-get']).status === 0;
}

/** Installs `packages`; returns apt-get's exit status (0 on success). */
export function aptInstall(packages: readonly string[]): number | null {
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const run = (args: string[]) =>
    spawnSync(sudo[0] ?? (args[0] as string), sudo.length ? args : args.slice(1), {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  const update = run(['apt-get', 'update', '-qq']);
  if (update.status !== 0) return update.status;
  return run(['apt-get', 'install', '-y', '-qq', ...packages]).status;
}
