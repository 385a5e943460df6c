import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root, wherever the checkout lives. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Git-ignored folder for binaries the project builds itself (FerretDB). */
export const TOOLS_BIN = path.join(REPO_ROOT, '.tools', 'bin');

/** Git-ignored folder for local data (FerretDB's SQLite files, dynalite). */
export const DATA_DIR = path.join(REPO_ROOT, '.data');
