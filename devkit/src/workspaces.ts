/**
 * Where the deployments' workspaces live, found through their packages (`package.json` is an
 * export of each), so that the toolkit starts them without a relative path into another workspace
 * and without loading their code.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function packageDir(name: string): string {
  return path.dirname(fileURLToPath(import.meta.resolve(`${name}/package.json`)));
}

/** legacy-server/: the droplet (`src/main.ts` is its process). */
export const DROPLET_DIR = packageDir('@reactometer/legacy-server');

/** serverless/: serverless.yml, infra/ and the handler bundles. */
export const SERVERLESS_DIR = packageDir('@reactometer/serverless');
