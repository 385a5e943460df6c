/**
 * The k6 scripts cannot run here (no k6 binary), so this checks what can be checked without it:
 * they type-check against @types/k6, there is one per scenario, they use only the metric names
 * scenarios.json declares, and the k6-operator manifest is a well-formed TestRun.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import yaml from 'js-yaml';
import { K6_PROFILES, parseVersion, profileFor } from '../k6-harness/k6-versions.js';

const loadtestDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const k6Dir = join(loadtestDir, 'k6');

interface ScenariosFile {
  metrics: Record<string, string>;
  scenarios: Record<string, { k6Only?: boolean }>;
}

const scenariosFile = JSON.parse(
  readFileSync(join(loadtestDir, 'scenarios', 'scenarios.json'), 'utf8'),
) as ScenariosFile;

function k6Sources(dir: string = k6Dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return k6Sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** `new Trend('name'...)`, `new Counter("name")`, ... in a source text. */
function metricConstructions(source: string): { kind: string; name: string; isTime: boolean }[] {
  const found: { kind: string; name: string; isTime: boolean }[] = [];
  const pattern = /new\s+(Trend|Counter|Gauge|Rate)\(\s*(['"`])([^'"`]+)\2\s*(,\s*(true|false))?/g;
  for (const m of source.matchAll(pattern)) {
    found.push({ kind: m[1] as string, name: m[3] as string, isTime: m[5] === 'true' });
  }
  return found;
}

describe('k6 scripts', () => {
  it('type-check against @types/k6 (tsc -p loadtest/k6/tsconfig.json)', () => {
    const configPath = join(k6Dir, 'tsconfig.json');
    const parsed = ts.getParsedCommandLineOfConfigFile(
      configPath,
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
        },
      },
    );
    expect(parsed).toBeDefined();
    const config = parsed as ts.ParsedCommandLine;
    expect(config.errors).toEqual([]);
    expect(config.fileNames.length).toBeGreaterThan(5);
    const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const where =
        d.file === undefined
          ? ''
          : `${relative(loadtestDir, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: `;
      return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
    });
    expect(diagnostics).toEqual([]);
  }, 120_000);

  it('exist for every scenario in scenarios.json, k6-only ones included', () => {
    const names = Object.keys(scenariosFile.scenarios);
    expect(names.length).toBeGreaterThan(0);
    expect(names.some((n) => scenariosFile.scenarios[n]?.k6Only === true)).toBe(true);
    for (const name of names) {
      const script = join(k6Dir, `${name}.ts`);
      expect({ name, exists: existsSync(script) }).toEqual({ name, exists: true });
      const source = readFileSync(script, 'utf8');
      // Each script configures its run, reports, and names its scenario in the summary.
      expect(source).toMatch(/export const options: Options =/);
      expect(source).toContain(`makeHandleSummary('${name}'`);
      expect(source).toMatch(/summaryTrendStats: SUMMARY_TREND_STATS/);
      expect(source).toMatch(/thresholds/);
      expect(source).toContain(`loadScenario('${name}')`);
    }
  });

  it('use only the metric names scenarios.json declares, all of them, with the right types', () => {
    const declared = scenariosFile.metrics;
    const constructions = k6Sources().flatMap((file) =>
      metricConstructions(readFileSync(file, 'utf8')).map((m) => ({
        ...m,
        file: relative(k6Dir, file),
      })),
    );
    expect(constructions.length).toBeGreaterThan(0);
    for (const m of constructions) {
      expect({ metric: m.name, file: m.file, declared: m.name in declared }).toEqual({
        metric: m.name,
        file: m.file,
        declared: true,
      });
      // The declaration starts with the metric type ("trend: ...", "counter: ...").
      const declaredKind = (declared[m.name] ?? '').split(':')[0]?.trim();
      expect({ metric: m.name, kind: m.kind.toLowerCase() }).toEqual({
        metric: m.name,
        kind: declaredKind,
      });
      if (m.kind === 'Trend')
        expect({ metric: m.name, isTime: m.isTime }).toEqual({ metric: m.name, isTime: true });
    }
    expect(constructions.map((m) => m.name).sort()).toEqual(Object.keys(declared).sort());
  });

  it('reference no undeclared custom metric in their thresholds', () => {
    const builtins = new Set([
      'checks',
      'data_received',
      'data_sent',
      'dropped_iterations',
      'http_req_duration',
      'http_req_failed',
      'http_reqs',
      'iteration_duration',
      'iterations',
      'vus',
      'vus_max',
      'ws_connecting',
      'ws_msgs_received',
      'ws_msgs_sent',
      'ws_ping',
      'ws_session_duration',
      'ws_sessions',
    ]);
    const scripts = readdirSync(k6Dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => join(k6Dir, f));
    let seen = 0;
    for (const file of scripts) {
      const source = readFileSync(file, 'utf8');
      // Threshold entries: `name: ['p(99)<...']`, `'name{tag:v}': [{ threshold: ... }]`, and
      // computed ones `t[`name{...}`] = [...]`: a key followed by a threshold expression.
      const expression = String.raw`\[\s*(?:\{\s*threshold|['\x60](?:count|p\(|value|avg|med|max|min|rate))`;
      const keys = [
        ...source.matchAll(
          new RegExp(String.raw`^\s+'?([a-z_]+)(?:\{[^}]*\})?'?: ` + expression, 'gm'),
        ),
        ...source.matchAll(
          new RegExp(String.raw`t\[\x60([a-z_]+)\{[^\x60]*\x60\] = ` + expression, 'g'),
        ),
      ].map((m) => m[1] as string);
      seen += keys.length;
      for (const key of keys) {
        const known = key in scenariosFile.metrics || builtins.has(key);
        expect({ file: relative(k6Dir, file), key, known }).toEqual({
          file: relative(k6Dir, file),
          key,
          known: true,
        });
      }
    }
    expect(seen).toBeGreaterThan(20);
  });
});

describe('k6 version the scripts need', () => {
  const readme = readFileSync(join(k6Dir, 'README.md'), 'utf8');
  const minimum = /\*\*Requires k6 ≥ (\d+\.\d+\.\d+)\.\*\*/.exec(readme)?.[1];

  it('is stated in the README and is the lowest version the harness models', () => {
    expect(minimum).toBeDefined();
    expect(minimum).toBe(K6_PROFILES[0]?.from);
    // k6/websockets is registered from v1.6.0 on: the scripts cannot need less.
    const usesWebsockets = k6Sources().some((f) =>
      readFileSync(f, 'utf8').includes("from 'k6/websockets'"),
    );
    expect(usesWebsockets).toBe(true);
    expect(parseVersion(minimum as string)).toEqual([1, 6, 0]);
  });

  it('allows no WebSocket ready-state constant unless the README requires k6 >= 2.3.0', () => {
    const [major, minor] = parseVersion(minimum as string) as [number, number, number];
    const constantsExist = major > 2 || (major === 2 && minor >= 3);
    const uses = k6Sources().flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(\*|\/\/)/.test(line))
        .filter((line) => /WebSocket\.(CONNECTING|OPEN|CLOSING|CLOSED)\b/.test(line))
        .map((line) => `${relative(k6Dir, file)}: ${line.trim()}`),
    );
    expect(constantsExist ? [] : uses).toEqual([]);
  });
});

describe('k6-operator TestRun', () => {
  const manifestPath = join(loadtestDir, 'k6-operator', 'testrun.yaml');

  it('parses as a k6.io/v1alpha1 TestRun running fan-out distributed from a ConfigMap', () => {
    const documents = yaml.loadAll(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>[];
    const testRun = documents.find((d) => d?.['kind'] === 'TestRun') as
      | {
          apiVersion: string;
          metadata: { name: string };
          spec: {
            parallelism: number;
            arguments: string;
            script: { configMap: { name: string; file: string } };
            runner?: { env?: { name: string }[] };
          };
        }
      | undefined;
    expect(testRun).toBeDefined();
    const spec = testRun!.spec;
    expect(testRun!.apiVersion).toBe('k6.io/v1alpha1');
    expect(spec.parallelism).toBeGreaterThan(1);
    expect(spec.script.configMap.name).toMatch(/\S/);
    expect(spec.script.configMap.file).toMatch(/fan-out/);
    expect(spec.arguments).toContain('--summary-export');
    const env = (spec.runner?.env ?? []).map((e) => e.name);
    expect(env).toEqual(expect.arrayContaining(['SLACK_SIGNING_SECRET']));
    // PARALLELISM must match spec.parallelism so each runner gets VUs; TARGET names the target.
    expect(spec.arguments).toMatch(new RegExp(`PARALLELISM=${spec.parallelism}\\b`));
    expect(spec.arguments).toMatch(/TARGET=aws/);
    // Runners share probes only with one RUN_ID.
    expect(spec.arguments).toMatch(/RUN_ID=[a-z0-9]+/);
  });

  it('pins the k6 image to a version the scripts support and the harness models', () => {
    const documents = yaml.loadAll(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>[];
    const testRun = documents.find((d) => d?.['kind'] === 'TestRun') as {
      spec: { runner: { image: string } };
    };
    const image = testRun.spec.runner.image;
    const tag = /^grafana\/k6:(\d+\.\d+\.\d+)$/.exec(image)?.[1];
    expect({ image, pinned: tag !== undefined }).toEqual({ image, pinned: true });
    expect(() => profileFor(tag as string)).not.toThrow();
  });
});
