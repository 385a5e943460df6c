/**
 * The house plan of .dependency-cruiser.cjs: each rule fires on a violation planted in the tree
 * (a rule that cannot fail is no rule), and the real tree passes. The planted files are named
 * `*.planted-violation.ts`, which every other tool ignores, and are removed afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '../src/paths.js';

const WORKSPACES = (
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }
).workspaces;

interface Planted {
  readonly file: string;
  readonly code: string;
  readonly rule: string;
}

const tag = `${process.pid}-${Date.now().toString(36)}`;
/** The quote of a planted import, kept out of this file's own text so no scanner reads it as one. */
const Q = "'";
const plant = (dir: string, code: string, rule: string): Planted => ({
  file: `${dir}/rule-${rule}-${tag}.planted-violation.ts`,
  code,
  rule,
});

const PLANTED: readonly Planted[] = [
  plant(
    'serverless/src',
    `import { systemClock } from ${Q}../../shared/src/index.js${Q};\nexport const x = systemClock;\n`,
    'no-relative-import-leaves-workspace',
  ),
  plant(
    'shared/src',
    "import express from 'express';\nexport const x = express;\n",
    'core-imports-no-adapter',
  ),
  plant(
    'shared/src/slack',
    "import { runCli } from '@reactometer/cli';\nexport const x = runCli;\n",
    'core-imports-no-adapter',
  ),
  plant(
    'legacy-server/src',
    "import { freePort } from '@reactometer/devkit';\nexport const x = freePort;\n",
    'production-src-no-dev-tooling',
  ),
  plant(
    'legacy-server/src',
    `import { capturingLogger } from ${Q}../test/support/log-capture.js${Q};\nexport const x = capturingLogger;\n`,
    'production-src-no-dev-tooling',
  ),
  plant(
    'serverless/src',
    "import fc from 'fast-check';\nexport const x = fc;\n",
    'production-src-no-dev-dependency',
  ),
  plant(
    'serverless/src',
    "import { createDroplet } from '@reactometer/legacy-server';\nexport const x = createDroplet;\n",
    'serverless-never-imports-droplet',
  ),
  plant(
    'legacy-server/src',
    `export { tableNames } from ${Q}../../serverless/src/index.js${Q};\n`,
    'droplet-never-imports-serverless',
  ),
  plant(
    'serverless/src',
    `import { migrateReactions } from ${Q}../../migration/src/migrate-reactions.js${Q};\nexport const x = migrateReactions;\n`,
    'deployments-do-not-know-the-migration',
  ),
  plant(
    'web/src',
    "import { runCli } from '@reactometer/cli';\nexport const x = runCli;\n",
    'workspace-imports-declared-dependencies',
  ),
  plant(
    'loadtest/src',
    "import type { ReactionStore } from '@reactometer/shared/src/ports.js';\nexport type X = ReactionStore;\n",
    'no-unresolvable-import',
  ),
];

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

/** Runs dependency-cruiser (the `npm run lint:deps` configuration) and returns its violations. */
function cruise(files: readonly string[], extraArgs: readonly string[] = []): Violation[] {
  const run = spawnSync(
    process.execPath,
    [
      path.join(REPO_ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'),
      '--config',
      '.dependency-cruiser.cjs',
      '--output-type',
      'json',
      ...extraArgs,
      ...files,
    ],
    { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.stdout.trim() === '') throw new Error(`dependency-cruiser failed: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

beforeAll(() => {
  for (const p of PLANTED) writeFileSync(path.join(REPO_ROOT, p.file), p.code);
});

afterAll(() => {
  for (const p of PLANTED) rmSync(path.join(REPO_ROOT, p.file), { force: true });
});

describe('workspace dependency rules (.dependency-cruiser.cjs)', () => {
  it('fire on each planted violation', () => {
    // The planted files are excluded from normal runs; here only node_modules is.
    const violations = cruise(
      PLANTED.map((p) => p.file),
      ['--exclude', '(^|/)(dist|coverage)/'],
    );
    for (const p of PLANTED) {
      const fired = violations.filter((v) => v.from === p.file).map((v) => v.rule.name);
      expect({ file: p.file, fired: fired.includes(p.rule) ? p.rule : fired }).toEqual({
        file: p.file,
        fired: p.rule,
      });
    }
  }, 60_000);

  it('pass on the real tree', () => {
    const violations = cruise(WORKSPACES);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  }, 60_000);
});
