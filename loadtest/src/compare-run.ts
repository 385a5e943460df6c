/**
 * The comparison run behind `npm run compare` (compare-cli.ts): starts the local deployments (the
 * droplet with FerretDB; the serverless offline stack; droplet x K), plays the scenarios of
 * `scenarios/scenarios.json` against them in one run, interleaved step by step, and writes the
 * report (`docs/comparison.md`, `docs/comparison-quick.md` with --quick, or one named after the
 * deployments and sizes with --clients), the raw summaries (`docs/results/<timestamp>|quick|<name>/*.json`)
 * and the SVG charts beside them.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  checkModelAgainstStandin,
  MODEL_CHECK_DEFAULTS,
  startFanOutRig,
} from '@reactometer/devkit/aws-standins';
import { modelForReport, type ModelledAws, type StandinCheckRow } from './model/report-model.js';
import { renderChart, type ChartRow, type ChartSpec } from './runner/charts.js';
import {
  deploymentName,
  playsScenario,
  poolFor,
  reportName,
  type DeploymentChoice,
} from './runner/deployment-choice.js';
import {
  startDropletClusterTarget,
  startDropletTarget,
  startServerlessTarget,
  type RunningTarget,
} from './runner/deployments.js';
import type { Trend } from '@reactometer/devkit';
import { stderrLog } from './runner/progress.js';
import { renderReport, type RunMeta } from './runner/report.js';
import { createRun, settleTarget, type AnyScenarioRun } from './runner/scenario-run.js';
import { loadScenarios, SCENARIO_NAMES, type ScenarioName } from './runner/scenarios.js';
import { summarySchema, type Summary } from './runner/summary.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = `compare-${Date.now().toString(36)}`;

/**
 * connection-scaling runs last: after 20,000 connections the serverless emulator spends minutes
 * on their $disconnects and on fan-outs to stale records, which would land in the next scenario.
 */
const RUN_ORDER: readonly ScenarioName[] = ['fan-out', 'churn', 'ingest', 'connection-scaling'];

export interface CompareOptions {
  readonly quick?: boolean;
  readonly only?: ScenarioName[];
  /** Stands in for docs/ (the end-to-end test writes to a temporary folder). */
  readonly out?: string;
  /** The deployments to start (compare-cli.ts resolves `--deployments` and `--droplet-processes`). */
  readonly deployments: readonly DeploymentChoice[];
  /** Client counts of the fan-out steps and connection-scaling steps instead of scenarios.json's. */
  readonly clients?: readonly number[];
  /** The command line, for the report. */
  readonly command: string;
}

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      }).trim() !== '';
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

const stepTrend = (
  s: Summary['reactometer']['steps'][number],
  name: 'ws_connect_ms' | 'delivery_ms',
): Trend | undefined => s.metrics[name] as Trend | undefined;

/**
 * Delivery p99 by dashboards: what was measured here (droplet), emulated (serverless-local) and
 * modelled for AWS (p50 and p99 of one update), on one log axis.
 */
function awsChart(
  summaries: readonly Summary[],
  aws: ModelledAws,
): Omit<ChartSpec, 'file'> & { name: string } {
  const measured: ChartRow[] = summaries
    .filter((s) => s.reactometer.scenario === 'fan-out')
    .flatMap((s) =>
      s.reactometer.steps.flatMap((step) => {
        const t = stepTrend(step, 'delivery_ms');
        if (!t || (t.max === 0 && t.med === 0)) return [];
        const label =
          s.reactometer.target === 'serverless-local'
            ? 'serverless-local (emulated)'
            : `${s.reactometer.target} (measured-here)`;
        return [{ target: label, x: step.size, y: t['p(99)'], series: 'p99' }];
      }),
    );
  const modelled: ChartRow[] = aws.rows.flatMap((r) => [
    { target: 'AWS (modelled-for-AWS)', x: r.clients, y: Math.round(r.p50Ms), series: 'p50' },
    { target: 'AWS (modelled-for-AWS)', x: r.clients, y: Math.round(r.p99Ms), series: 'p99' },
  ]);
  return {
    name: 'aws-delivery',
    title: 'Delivery latency of an update vs dashboards: measured, emulated, modelled for AWS',
    xTitle: 'dashboards',
    yTitle: 'ms',
    logX: true,
    logY: true,
    rows: [...measured, ...modelled],
  };
}

/** The model against the stand-in, for the report (bounded; a failure is reported, not fatal). */
async function standinCheck(
  sizes: readonly number[],
  log: (line: string) => void,
): Promise<{ rows: StandinCheckRow[] | null; error: string | null }> {
  let rig;
  try {
    rig = await startFanOutRig({ latency: MODEL_CHECK_DEFAULTS.latency, rateLimit: null });
    const rows: StandinCheckRow[] = [];
    for (const connections of sizes) {
      await rig.populate(connections);
      const c = await checkModelAgainstStandin(rig, { connections });
      rows.push({
        connections,
        measuredMs: c.measured.finishMs,
        modelledMs: c.modelled.finishMs,
        error: c.finishError,
      });
      log(`model vs stand-in at ${connections}: ${Math.round(c.finishError * 1000) / 10}%`);
    }
    return { rows, error: null };
  } catch (err) {
    return { rows: null, error: err instanceof Error ? err.message : String(err) };
  } finally {
    await rig?.stop().catch(() => undefined);
  }
}

function chartSpecs(summaries: readonly Summary[]): Omit<ChartSpec, 'file'>[] & { name: string }[] {
  const of = (scenario: string) => summaries.filter((s) => s.reactometer.scenario === scenario);
  const rows = (
    scenario: string,
    f: (s: Summary, step: Summary['reactometer']['steps'][number]) => ChartRow[],
  ): ChartRow[] => of(scenario).flatMap((s) => s.reactometer.steps.flatMap((step) => f(s, step)));
  const pct =
    (name: 'ws_connect_ms' | 'delivery_ms') =>
    (s: Summary, step: Summary['reactometer']['steps'][number]): ChartRow[] => {
      const t = stepTrend(step, name);
      if (!t || (t.max === 0 && t.med === 0)) return [];
      return [
        { target: s.reactometer.target, x: step.size, y: t.med, series: 'p50' },
        { target: s.reactometer.target, x: step.size, y: t['p(99)'], series: 'p99' },
      ];
    };
  return [
    {
      name: 'connect-latency',
      title: 'WebSocket connect latency by step (connection-scaling)',
      xTitle: 'connections (step)',
      yTitle: 'connect ms',
      logX: true,
      rows: rows('connection-scaling', pct('ws_connect_ms')),
    },
    {
      name: 'delivery-latency',
      title: 'Delivery latency vs subscribers (fan-out)',
      xTitle: 'clients',
      yTitle: 'POST to receipt ms',
      logX: true,
      rows: rows('fan-out', pct('delivery_ms')),
    },
    {
      name: 'memory-per-connection',
      title: 'Server memory per idle connection (connection-scaling)',
      xTitle: 'connections held',
      yTitle: 'KiB per connection',
      logX: true,
      rows: rows('connection-scaling', (s, step) =>
        typeof step.figures.bytesPerConnection === 'number' && Number(step.figures.open) > 0
          ? [
              {
                target: s.reactometer.target,
                x: Number(step.figures.open),
                y: Math.round((step.figures.bytesPerConnection / 1024) * 100) / 100,
                series: '',
              },
            ]
          : [],
      ),
    },
    {
      name: 'cpu-per-delivery',
      title: 'Server CPU per delivered message (fan-out)',
      xTitle: 'clients',
      yTitle: 'CPU µs per delivery',
      logX: true,
      rows: rows('fan-out', (s, step) =>
        typeof step.figures.serverCpuMicrosPerDelivery === 'number'
          ? [
              {
                target: s.reactometer.target,
                x: step.size,
                y: step.figures.serverCpuMicrosPerDelivery,
                series: '',
              },
            ]
          : [],
      ),
    },
  ];
}

/** The whole comparison run (`npm run compare`); sets `process.exitCode` to 1 on errors. */
export async function runComparison(options: CompareOptions): Promise<void> {
  const quick = options.quick === true;
  const only = RUN_ORDER.filter((s) => (options.only ?? SCENARIO_NAMES).includes(s));
  const DOCS = path.resolve(options.out ?? path.join(REPO_ROOT, 'docs'));
  const loaded = loadScenarios({ quick });
  // --clients: the same sizes for fan-out and for the connection-scaling steps.
  const scenarios =
    options.clients === undefined
      ? loaded
      : {
          ...loaded,
          'fan-out': { ...loaded['fan-out'], clients: [...options.clients] },
          'connection-scaling': { ...loaded['connection-scaling'], steps: [...options.clients] },
        };
  const largestStep = Math.max(
    ...scenarios['fan-out'].clients,
    ...scenarios['connection-scaling'].steps,
  );
  const started = performance.now();
  const date = new Date();
  const names = reportName({ quick, clients: options.clients, deployments: options.deployments });
  const dirName = names.resultsDir ?? date.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
  const resultsDir = path.join(DOCS, 'results', dirName);
  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir, { recursive: true });
  const log = stderrLog;

  log(
    `${options.command}: ${only.join(', ')}; starting ${options.deployments.map(deploymentName).join(', ')}...`,
  );
  const running: RunningTarget[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(running.map((r) => r.stop()));
    running.length = 0;
  };
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: stopping the deployments...');
    void stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const errors: string[] = [];
  const summaries: Summary[] = [];
  try {
    const starts = await Promise.allSettled(
      options.deployments.map((d) =>
        d.kind === 'droplet'
          ? startDropletTarget({
              signingSecret: SECRET,
              maxNewConnectionsPerSecond: scenarios.targets.droplet.maxNewConnectionsPerSecond,
            })
          : d.kind === 'serverless-local'
            ? startServerlessTarget({
                signingSecret: SECRET,
                maxNewConnectionsPerSecond:
                  scenarios.targets['serverless-local'].maxNewConnectionsPerSecond,
              })
            : startDropletClusterTarget({
                name: deploymentName(d),
                processes: d.processes,
                dashboards: largestStep,
                signingSecret: SECRET,
                maxNewConnectionsPerSecond:
                  scenarios.targets['droplet-cluster'].maxNewConnectionsPerSecond,
              }),
      ),
    );
    // Started ones are stopped by the finally below, even when another failed to start.
    for (const r of starts) if (r.status === 'fulfilled') running.push(r.value);
    for (const r of starts) if (r.status === 'rejected') throw r.reason;
    const choiceOf = (r: RunningTarget): DeploymentChoice =>
      options.deployments.find((d) => deploymentName(d) === r.target.name) as DeploymentChoice;
    log(
      `ready in ${Math.round((performance.now() - started) / 1000)} s: ${running.map((r) => `${r.target.name} ${r.target.httpUrl}`).join(', ')}`,
    );

    for (const name of only) {
      if (interrupted) break;
      log(`\n=== ${name} ===`);
      await Promise.all(running.map((r) => settleTarget(r.target, log)));
      const runs: AnyScenarioRun[] = running
        .filter((r) => playsScenario(choiceOf(r), name))
        .map((r) =>
          createRun(name, r.target, scenarios[name], {
            log,
            ...poolFor(choiceOf(r), largestStep),
            otherPids: () => running.filter((o) => o !== r).flatMap((o) => o.target.serverPids()),
          }),
        );
      const failed = new Set<AnyScenarioRun>();
      const steps = Math.max(...runs.map((r) => r.stepCount));
      for (let i = 0; i < steps && !interrupted; i++) {
        // Interleaved: one step of each deployment in turn, so machine noise hits both alike.
        for (const run of runs) {
          if (failed.has(run)) continue;
          try {
            await run.runStep(i);
          } catch (err) {
            failed.add(run);
            const msg = `${run.target.name} ${name} step ${i + 1}: ${err instanceof Error ? err.message : String(err)}`;
            errors.push(msg);
            log(`ERROR ${msg}`);
          }
        }
      }
      for (const run of runs) {
        const summary = summarySchema.parse(await run.finish());
        summaries.push(summary);
        const file = path.join(resultsDir, `${name}.${run.target.name}.json`);
        writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
      }
    }
  } finally {
    const targets: RunMeta['targets'] = Object.fromEntries(
      running.map((r) => [r.target.name, r.notes]),
    );
    await stopAll();
    if (summaries.length > 0) {
      log('\nmodelling AWS and checking the model against the @connections stand-in...');
      const check = await standinCheck(quick ? [1_000] : [1_000, 10_000], log);
      const fanOutSizes = [
        ...new Set(
          summaries
            .filter((s) => s.reactometer.scenario === 'fan-out')
            .flatMap((s) => s.reactometer.steps.map((x) => x.size)),
        ),
      ];
      const cluster = options.deployments.find((d) => d.kind === 'droplet-cluster');
      const aws = modelForReport(
        fanOutSizes,
        check.rows,
        check.error,
        cluster?.kind === 'droplet-cluster' ? cluster.processes : undefined,
      );
      const charts: ChartSpec[] = [];
      for (const c of [...chartSpecs(summaries), awsChart(summaries, aws)]) {
        const { name, ...spec } = c as Omit<ChartSpec, 'file'> & { name: string };
        const rel = `results/${dirName}/${name}.svg`;
        const chart: ChartSpec = { ...spec, file: rel };
        if (chart.rows.length > 0) writeFileSync(path.join(DOCS, rel), await renderChart(chart));
        charts.push(chart);
      }
      const cpus = os.cpus();
      const meta: RunMeta = {
        date: date.toISOString(),
        quick,
        cores: cpus.length,
        cpuModel: cpus[0]?.model.trim() ?? 'unknown',
        memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
        node: process.version,
        os: `${os.type()} ${os.release()}`,
        commit: gitCommit(),
        command: options.command,
        wallSeconds: (performance.now() - started) / 1000,
        resultsDir: `results/${dirName}`,
        targets,
        errors,
      };
      const report = path.join(DOCS, names.report);
      writeFileSync(report, renderReport(meta, summaries, charts, aws));
      writeFileSync(path.join(resultsDir, 'aws-model.json'), `${JSON.stringify(aws, null, 2)}\n`);
      writeFileSync(path.join(resultsDir, 'run.json'), `${JSON.stringify(meta, null, 2)}\n`);
      log(
        `\nwrote ${path.relative(REPO_ROOT, report)} and ${path.relative(REPO_ROOT, resultsDir)}/ in ${Math.round(meta.wallSeconds)} s`,
      );
    }
  }
  if (errors.length > 0) process.exitCode = 1;
}
