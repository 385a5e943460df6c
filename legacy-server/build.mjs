/**
 * The droplet's production build (`npm run build`): `src/main.ts` and `src/reconcile-cli.ts`
 * bundled by esbuild into `dist/` as plain ESM JavaScript that `node dist/main.js` runs with no
 * TypeScript loader. The workspace packages (`@reactometer/*`, which export TypeScript sources)
 * are inlined; npm packages stay external and are installed on the host from
 * `dist/package.json` (`npm install --omit=dev` there), exactly the versions this checkout pins.
 *
 *   node build.mjs              build
 *   node build.mjs --if-stale   build only when a source changed since the last build (the local
 *                               launchers and test starters call this, so they always run
 *                               what is checked out)
 *
 * Parallel callers (test workers) take turns through a lock folder, and each build goes to a
 * folder of its own that is renamed into place, so no one ever runs a half-written bundle.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const OUT_DIR = path.join(HERE, 'dist');
const ENTRIES = ['main', 'reconcile-cli'];
/** The workspaces compiled into the bundle: this one and what it imports. */
const WORKSPACES = ['legacy-server', 'shared', 'cli'];

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** The version of `name` that `require` finds (found from its entry: not every package exports package.json). */
function installedVersion(require, name) {
  for (
    let dir = path.dirname(require.resolve(name));
    dir !== path.dirname(dir);
    dir = path.dirname(dir)
  ) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file) && readJson(file).name === name) return readJson(file).version;
  }
  throw new Error(`cannot find the installed version of ${name}`);
}

/** Every npm dependency of the bundled workspaces, at the version installed here. */
function externalDependencies() {
  const deps = {};
  for (const ws of WORKSPACES) {
    // Resolved from the workspace that declares it: that is the copy the bundle's code was
    // written and tested against.
    const require = createRequire(path.join(ROOT, ws, 'package.json'));
    const pkg = readJson(path.join(ROOT, ws, 'package.json'));
    for (const name of Object.keys(pkg.dependencies ?? {})) {
      if (name.startsWith('@reactometer/')) continue;
      deps[name] = installedVersion(require, name);
    }
  }
  return Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
}

function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else out.push(full);
  }
  return out;
}

/** A fingerprint of everything the bundle is made of: sources, manifests, this script. */
export function sourceFingerprint() {
  const files = [
    fileURLToPath(import.meta.url),
    path.join(ROOT, 'package-lock.json'),
    ...WORKSPACES.flatMap((ws) => [
      path.join(ROOT, ws, 'package.json'),
      ...filesUnder(path.join(ROOT, ws, 'src')),
    ]),
  ].sort();
  const hash = createHash('sha256');
  for (const file of files) {
    const st = statSync(file);
    hash.update(`${path.relative(ROOT, file)}\0${st.size}\0${st.mtimeMs}\0`);
  }
  return hash.digest('hex');
}

const STAMP = 'build-info.json';

function builtFingerprint() {
  try {
    return readJson(path.join(OUT_DIR, STAMP)).fingerprint;
  } catch {
    return undefined;
  }
}

async function bundle(fingerprint) {
  const started = Date.now();
  const tmp = path.join(HERE, `.dist-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const dependencies = externalDependencies();
    await build({
      entryPoints: Object.fromEntries(ENTRIES.map((e) => [e, path.join(HERE, 'src', `${e}.ts`)])),
      outdir: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: true,
      // npm packages load from node_modules at run time (some, like mongodb's optional
      // native modules, cannot be bundled); the workspaces' TypeScript is compiled in.
      external: Object.keys(dependencies),
      logLevel: 'warning',
      legalComments: 'none',
    });
    await writeFile(
      path.join(tmp, 'package.json'),
      `${JSON.stringify(
        {
          name: 'reactometer-droplet',
          version: readJson(path.join(HERE, 'package.json')).version,
          private: true,
          type: 'module',
          description: 'The built droplet: `npm install --omit=dev` here, then `node main.js`.',
          engines: readJson(path.join(ROOT, 'package.json')).engines,
          scripts: { start: 'node main.js', reconcile: 'node reconcile-cli.js' },
          dependencies,
        },
        null,
        2,
      )}\n`,
    );
    await writeFile(
      path.join(tmp, STAMP),
      `${JSON.stringify({ fingerprint, builtAt: new Date().toISOString() }, null, 2)}\n`,
    );
    // Replace the whole folder (under the lock): a process already running the old files keeps
    // them open.
    const old = `${OUT_DIR}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
    if (existsSync(OUT_DIR)) renameSync(OUT_DIR, old);
    renameSync(tmp, OUT_DIR);
    rmSync(old, { recursive: true, force: true });
    return Date.now() - started;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const LOCK = path.join(HERE, '.dist-lock');
/** A lock older than this is left over from a killed build. */
const STALE_LOCK_MS = 120_000;

async function withLock(fn) {
  const deadline = Date.now() + 2 * STALE_LOCK_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true });
      } catch {
        // Released meanwhile.
      }
      if (Date.now() > deadline) throw new Error(`could not take ${LOCK}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

async function main() {
  const ifStale = process.argv.includes('--if-stale');
  const quiet = process.argv.includes('--quiet');
  await withLock(async () => {
    const fingerprint = sourceFingerprint();
    if (ifStale && builtFingerprint() === fingerprint) return;
    const ms = await bundle(fingerprint);
    if (!quiet) {
      process.stderr.write(
        `[build] legacy-server/dist/{${ENTRIES.map((e) => `${e}.js`).join(',')}} in ${ms} ms\n`,
      );
    }
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`[build] failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
