/**
 * The droplet's production build (`legacy-server/build.mjs`: esbuild, `dist/main.js`), made on
 * demand: the launchers and starters run what production runs, rebuilt only when a source changed.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DROPLET_DIR } from '../workspaces.js';

/** `legacy-server/dist/main.js`: the droplet as `node` runs it in production. */
export const DROPLET_MAIN_JS = path.join(DROPLET_DIR, 'dist', 'main.js');
/** `legacy-server/dist/reconcile-cli.js` */
export const DROPLET_RECONCILE_JS = path.join(DROPLET_DIR, 'dist', 'reconcile-cli.js');
/** The TypeScript entry, for running through tsx (the before/after start-up comparison). */
export const DROPLET_MAIN_TS = path.join(DROPLET_DIR, 'src', 'main.ts');

/** Builds `dist/` when a source changed since the last build (idempotent, safe in parallel). */
export function ensureDropletBuild(): string {
  const r = spawnSync(process.execPath, [path.join(DROPLET_DIR, 'build.mjs'), '--if-stale'], {
    cwd: DROPLET_DIR,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    throw new Error(`building the droplet failed (${r.status}): ${r.stderr || r.stdout}`);
  }
  return DROPLET_MAIN_JS;
}
