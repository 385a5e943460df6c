/**
 * Bundles a k6 script the way k6 reads it: every local file (TypeScript included) goes through
 * esbuild's TypeScript loader, as k6 strips types with esbuild per file
 * (internal/js/compiler/enhanced.go: loader ts, target esnext, platform neutral); every `k6` or
 * `k6/...` import must be a module the targeted k6 version registers (internal/js/jsmodules.go)
 * and that the harness shims, or the bundle fails naming it. Node built-ins and npm packages fail
 * too: k6 has neither.
 *
 * `import.meta.resolve(x)` is rewritten to a call that resolves `x` against the calling file's
 * own file:// URL, which is what k6's SetFinalImportMeta hook does.
 */
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SHIMMED_MODULES } from './k6-versions.js';
import type { K6Profile } from './k6-versions.js';

/** A script that cannot run under the targeted k6 version (or under the harness). */
export class ScriptBundleError extends Error {
  readonly code = 'script_bundle_failed';
  constructor(message: string) {
    super(message);
    this.name = 'ScriptBundleError';
  }
}

function k6Modules(profile: K6Profile): Plugin {
  return {
    name: 'k6-modules',
    setup(b) {
      b.onResolve({ filter: /^k6(\/.*)?$/ }, (args) => {
        const info = profile.modules.find((m) => m.name === args.path);
        if (info === undefined) {
          return {
            errors: [
              {
                text: `k6 ${profile.id} has no module "${args.path}" (imported by ${path.basename(args.importer)})`,
              },
            ],
          };
        }
        if (info.removed !== undefined) {
          return {
            errors: [{ text: `k6 ${profile.id}: module "${args.path}" ${info.removed}` }],
          };
        }
        if (!(SHIMMED_MODULES as readonly string[]).includes(args.path)) {
          return {
            errors: [
              {
                text: `module "${args.path}" exists in k6 ${profile.id} but the harness does not model it`,
              },
            ],
          };
        }
        return { path: args.path, namespace: 'k6' };
      });
      b.onLoad({ filter: /.*/, namespace: 'k6' }, (args) => ({
        contents: `module.exports = __k6_require(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
      // Anything that is neither relative, absolute nor a URL would be an npm package or a Node
      // built-in: k6 resolves neither.
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (/^(https?|file):/.test(args.path)) return undefined;
        return {
          errors: [
            {
              text: `"${args.path}" (imported by ${path.basename(args.importer)}) is not a k6 module; k6 cannot import npm packages or Node built-ins`,
            },
          ],
        };
      });
      b.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        const url = pathToFileURL(args.path).href;
        return {
          contents: source.replace(
            /import\.meta\.resolve\(/g,
            `__k6_importMetaResolve(${JSON.stringify(url)}, `,
          ),
          loader: args.path.endsWith('ts') ? 'ts' : 'js',
        };
      });
    },
  };
}

/** The script as one script text that defines `__k6_script` (its exports) when evaluated. */
export async function bundleScript(scriptPath: string, profile: K6Profile): Promise<string> {
  try {
    const result = await build({
      entryPoints: [scriptPath],
      bundle: true,
      write: false,
      format: 'iife',
      globalName: '__k6_script',
      platform: 'neutral',
      target: 'esnext',
      logLevel: 'silent',
      sourcemap: false,
      plugins: [k6Modules(profile)],
    });
    const file = result.outputFiles[0];
    if (file === undefined)
      throw new ScriptBundleError(`esbuild produced nothing for ${scriptPath}`);
    return file.text;
  } catch (e) {
    const errors = (
      e as { errors?: { text: string; location?: { file: string; line: number } | null }[] }
    ).errors;
    if (errors !== undefined && errors.length > 0) {
      throw new ScriptBundleError(
        errors
          .map((x) => (x.location ? `${x.location.file}:${x.location.line}: ${x.text}` : x.text))
          .join('\n'),
      );
    }
    throw e;
  }
}
