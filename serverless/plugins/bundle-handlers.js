/**
 * A local Serverless Framework v3 plugin: bundles each function's TypeScript handler with esbuild
 * into one ESM file under `dist/`, and packages each function with only its own bundle.
 *
 * Why not serverless-esbuild: Lambda loads a `.js` file as ESM only when a package.json with
 * `"type": "module"` sits beside it, and serverless-esbuild leaves package.json out of the zip;
 * its `.mjs` output, in turn, breaks serverless-offline-sns, which imports `<handler>.js`
 * (BANCS-Norway/serverless-offline-sns#160). Here `dist/package.json` marks the bundles as ESM
 * for Node, serverless-offline, serverless-offline-sns and Lambda alike.
 *
 * A function's handler `dist/handlers/<name>.<export>` is built from `src/handlers/<name>.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const OUT_DIR = 'dist';
const SOURCE_DIR = 'src';

// Bundled CommonJS dependencies may `require()` Node built-ins; an ESM bundle has no `require`
// unless it makes one.
const BANNER =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

export default class BundleHandlersPlugin {
  constructor(serverless, _options, { log }) {
    this.serverless = serverless;
    this.log = log;
    this.built = undefined;
    const bundle = () => this.bundle();
    this.hooks = {
      'before:package:createDeploymentArtifacts': bundle,
      'before:deploy:function:packageFunction': bundle,
      'before:offline:start': bundle,
      'before:offline:start:init': bundle,
      'before:invoke:local:invoke': bundle,
    };
  }

  /** handler `dist/handlers/x.fn` -> { name: 'x', entry: 'src/handlers/x.ts' } */
  entries() {
    const servicePath = this.serverless.serviceDir ?? this.serverless.config.servicePath;
    const byName = new Map();
    for (const [fnName, fn] of Object.entries(this.serverless.service.functions ?? {})) {
      const handler = String(fn.handler ?? '');
      const match = /^dist\/handlers\/([a-z0-9-]+)\.[A-Za-z_$][\w$]*$/.exec(handler);
      if (!match) {
        throw new this.serverless.classes.Error(
          `function ${fnName}: handler "${handler}" must look like dist/handlers/<file>.<export>`,
        );
      }
      const name = match[1];
      byName.set(name, path.join(servicePath, SOURCE_DIR, 'handlers', `${name}.ts`));
      fn.package = {
        ...fn.package,
        // Only this function's bundle, its source map and the package.json that marks it ESM.
        patterns: [
          '!**',
          `${OUT_DIR}/package.json`,
          `${OUT_DIR}/handlers/${name}.js`,
          `${OUT_DIR}/handlers/${name}.js.map`,
        ],
      };
    }
    return { servicePath, byName };
  }

  async bundle() {
    this.built ??= this.#bundle();
    return this.built;
  }

  async #bundle() {
    const started = Date.now();
    const { servicePath, byName } = this.entries();
    const outDir = path.join(servicePath, OUT_DIR);
    // Several stacks (parallel tests) may bundle at once: each builds into its own directory and
    // then renames file by file, so a reader never sees a half-written bundle.
    const tmpDir = path.join(outDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await build({
        entryPoints: Object.fromEntries(
          [...byName].map(([name, entry]) => [`handlers/${name}`, entry]),
        ),
        outdir: tmpDir,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        // Prefer the ESM builds of dependencies (the AWS SDK ships both), so tree-shaking works.
        mainFields: ['module', 'main'],
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        legalComments: 'none',
        banner: { js: BANNER },
        logLevel: 'warning',
      });
      await mkdir(path.join(outDir, 'handlers'), { recursive: true });
      await writeFile(path.join(tmpDir, 'package.json'), '{ "type": "module" }\n');
      await rename(path.join(tmpDir, 'package.json'), path.join(outDir, 'package.json'));
      for (const file of await readdir(path.join(tmpDir, 'handlers'))) {
        await rename(path.join(tmpDir, 'handlers', file), path.join(outDir, 'handlers', file));
      }
    } finally {
      await rm(tmpDir, { recursive: true, force: true });
    }
    this.log.verbose(
      `bundled ${byName.size} handlers into ${OUT_DIR}/handlers in ${Date.now() - started} ms`,
    );
  }
}
