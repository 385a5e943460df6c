/**
 * `k6 run`, as far as the harness models it (internal/cmd/run.go, internal/js/runner.go,
 * internal/execution/scheduler.go at v2.2.0): bundle the script for the targeted version, run its
 * init context once for the options, initialise the planned VUs, run setup() in a fresh VU, run
 * every scenario from its startTime, evaluate thresholds every 2 s (abortOnFail stops the test)
 * and once at the end, run teardown(setup data) in a fresh VU, then handleSummary(data) in a
 * fresh VU with the summary shape k6 gives it, writing what it returns; exit codes as k6's
 * (errext/exitcodes): 99 thresholds failed, 104 invalid options, 107 script error, 108 aborted by
 * the script, 110 marked failed.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleScript, ScriptBundleError } from './bundle-script.js';
import { parseDuration } from './duration.js';
import {
  parseScenarios,
  parseSegment,
  plannedVus,
  runScenario,
  ScenarioConfigError,
} from './executors.js';
import type { ExecutorHost, LentVu, ScenarioConfig } from './executors.js';
import { profileFor } from './k6-versions.js';
import type { K6Profile } from './k6-versions.js';
import { MetricStore } from './metric-store.js';
import type { InstanceInfo, ScenarioInfo, Tags, VuReport } from './protocol.js';
import {
  DEFAULT_TREND_STATS,
  legacySummaryData,
  machineReadableSummaryData,
  summaryExport,
} from './summary-data.js';
import { evaluateThresholds, parseThresholds, ThresholdConfigError } from './thresholds.js';
import type { Threshold } from './thresholds.js';
import { NetWorker, VuGoneError, VuHandle } from './vu-pool.js';
import type { VuEvents } from './vu-pool.js';

export const EXIT_CODES = {
  ok: 0,
  thresholdsFailed: 99,
  setupTimeout: 100,
  teardownTimeout: 101,
  invalidConfig: 104,
  scriptException: 107,
  scriptAborted: 108,
  markedAsFailed: 110,
} as const;

export interface RunOptions {
  readonly scriptPath: string;
  /** A k6 version ("2.2", "2.3.0") or a profile id ("1.6-2.2", "2.3+"). */
  readonly k6Version: string;
  /** __ENV (the caller merges the system environment in, as `k6 run` does by default). */
  readonly env: Readonly<Record<string, string>>;
  /** `--summary-export FILE` (relative to cwd). */
  readonly summaryExport?: string;
  /** `--new-machine-readable-summary`. */
  readonly newMachineReadableSummary?: boolean;
  /** `--execution-segment` (k6-operator runners), e.g. "0:1/2". */
  readonly executionSegment?: string;
  /** Directory handleSummary's relative file names are written in (k6: its cwd). */
  readonly cwd?: string;
  /** Each log line as k6 prints it; default: stderr. */
  readonly onLog?: (line: LogLine) => void;
  /** handleSummary's `stdout` output; default: process.stdout. */
  readonly onStdout?: (text: string) => void;
  /** Safety bound on the whole run (ms). */
  readonly maxRunMs?: number;
  /**
   * Stop the test at the first finding (a VU that k6 would keep blocked or running): tests use
   * it to fail fast instead of waiting for the scenario's hard stop, as k6 would.
   */
  readonly abortOnFinding?: boolean;
}

export interface LogLine {
  readonly level: string;
  readonly text: string;
  readonly vu: number;
  readonly elapsedMs: number;
}

export interface RunResult {
  readonly exitCode: number;
  readonly profile: K6Profile['id'];
  /** Every threshold with its final verdict. */
  readonly thresholds: readonly { key: string; source: string; ok: boolean }[];
  readonly logs: readonly LogLine[];
  /** What the script does that would hang or break on real k6. */
  readonly findings: readonly string[];
  /** Errors that ended iterations (or setup, teardown, handleSummary), with where they happened. */
  readonly errors: readonly string[];
  /** The data handleSummary received. */
  readonly summaryData: Record<string, unknown> | null;
  readonly handleSummaryError: string | null;
  /** Files handleSummary (and --summary-export) wrote, by path as given. */
  readonly files: Readonly<Record<string, string>>;
  readonly aborted: string | null;
  readonly iterations: { completed: number; interrupted: number };
  readonly durationMs: number;
}

/** The run ends early with k6's exit code for why (bad options, script error, setup failed). */
class RunFailure extends Error {
  readonly code = 'run_failed';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'RunFailure';
  }
}

function formatLog(line: LogLine): string {
  const level = line.level.toUpperCase().slice(0, 4);
  const secs = String(Math.floor(line.elapsedMs / 1000)).padStart(4, '0');
  return `${level}[${secs}] ${line.text}${line.vu >= 0 ? `  source=console vu=${line.vu}` : ''}`;
}

export async function runK6Script(opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const profile = profileFor(opts.k6Version);
  const segment = parseSegment(opts.executionSegment);
  const logs: LogLine[] = [];
  const findings: string[] = [];
  const errors: string[] = [];
  const files: Record<string, string> = {};
  const store = new MetricStore();
  let thresholds: Threshold[] = [];
  let aborted: string | null = null;
  let abortExit: number = EXIT_CODES.ok;
  let markedFailed = false;
  let exitCode: number = EXIT_CODES.ok;
  let summaryData: Record<string, unknown> | null = null;
  let handleSummaryError: string | null = null;
  let completed = 0;
  let interrupted = 0;
  let testStart = 0;
  const emitLog = (level: string, text: string, vu: number): void => {
    const line = { level, text, vu, elapsedMs: Date.now() - started };
    logs.push(line);
    if (opts.onLog !== undefined) opts.onLog(line);
    else process.stderr.write(`${formatLog(line)}\n`);
  };
  const active = new Set<VuHandle>();
  const idle: VuHandle[] = [];
  let nextVuId = 1;
  let stopping = false;
  const stopAll = (reason: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    aborted = reason;
    abortExit = code;
    emitLog('error', reason, -1);
    for (const vu of [...active, ...idle]) void vu.kill();
  };
  const events: VuEvents = {
    samples(samples, metrics) {
      for (const m of metrics) store.define(m);
      for (const s of samples) store.add(s);
    },
    log: (vu, level, text) => {
      if (text.startsWith('marked failed: ')) markedFailed = true;
      emitLog(level, text, vu);
    },
    abort: (_vu, reason) => stopAll(reason, EXIT_CODES.scriptAborted),
    finding: (vu, text) => {
      findings.push(text);
      emitLog('error', `harness: ${text}`, vu);
      if (opts.abortOnFinding === true) {
        stopAll('harness: stopping at a finding (abortOnFinding)', EXIT_CODES.scriptException);
      }
    },
  };

  let net: NetWorker | null = null;
  const safety = setTimeout(
    () =>
      stopAll(`harness: run exceeded its bound of ${opts.maxRunMs} ms`, EXIT_CODES.scriptException),
    opts.maxRunMs ?? 30 * 60_000,
  );
  safety.unref();
  let setupData: string | null = null;
  let options: Record<string, unknown> = {};
  let code = '';
  const baseEnv = { ...opts.env };
  const scriptPath = path.resolve(opts.cwd ?? process.cwd(), opts.scriptPath);
  const newVu = async (id: number, optionsJson: string | null): Promise<VuHandle> => {
    const { vu } = await VuHandle.create(
      id,
      net as NetWorker,
      { profileId: profile.id, code, scriptPath, env: baseEnv, options: optionsJson },
      events,
    );
    return vu;
  };
  const callLifecycle = async (
    fn: 'setup' | 'teardown' | 'handleSummary',
    arg: string | null,
  ): Promise<{ error: string | null; result: string | null; timedOut: boolean }> => {
    // k6's defaults: setupTimeout and teardownTimeout 60 s, handleSummary 2 min.
    const timeoutMs =
      fn === 'handleSummary'
        ? 120_000
        : parseDuration(options[`${fn}Timeout`] ?? '60s', `${fn}Timeout`);
    const vu = await newVu(0, JSON.stringify(options));
    const timer = setTimeout(() => void vu.kill(), timeoutMs);
    try {
      const r = (await vu.run({ op: 'call', fn, arg })) as Extract<VuReport, { op: 'callDone' }>;
      return { error: r.error, result: r.result, timedOut: false };
    } catch (e) {
      const timedOut = e instanceof VuGoneError;
      return {
        error: timedOut
          ? `${fn}() execution timed out after ${timeoutMs / 1000} seconds`
          : String(e),
        result: null,
        timedOut,
      };
    } finally {
      clearTimeout(timer);
      await vu.kill();
    }
  };

  try {
    try {
      code = await bundleScript(scriptPath, profile);
    } catch (e) {
      if (e instanceof ScriptBundleError)
        throw new RunFailure(e.message, EXIT_CODES.scriptException);
      throw e;
    }
    net = await NetWorker.start();
    // VU 0 evaluates init once to read the options (k6 does this before anything else).
    let exportsList: string[];
    try {
      const first = await VuHandle.create(
        0,
        net,
        { profileId: profile.id, code, scriptPath, env: baseEnv, options: null },
        events,
      );
      exportsList = first.init.exports;
      options = JSON.parse(first.init.options) as Record<string, unknown>;
      await first.vu.kill();
    } catch (e) {
      throw new RunFailure(
        `init failed: ${e instanceof Error ? e.message : String(e)}`,
        EXIT_CODES.scriptException,
      );
    }
    let scenarios: ScenarioConfig[];
    try {
      scenarios = parseScenarios(options);
      thresholds = parseThresholds(options['thresholds'], store);
      for (const sc of scenarios) {
        if (!exportsList.includes(sc.exec)) {
          throw new ScenarioConfigError(
            `scenario ${sc.name}: exported function "${sc.exec}" not found`,
          );
        }
      }
    } catch (e) {
      if (e instanceof ScenarioConfigError || e instanceof ThresholdConfigError) {
        throw new RunFailure(e.message, EXIT_CODES.invalidConfig);
      }
      throw new RunFailure(String(e), EXIT_CODES.invalidConfig);
    }
    options = {
      ...options,
      executionSegment: opts.executionSegment ?? null,
      summaryTrendStats: options['summaryTrendStats'] ?? DEFAULT_TREND_STATS,
    };
    const optionsJson = JSON.stringify(options);
    const planned = plannedVus(scenarios, segment);
    // k6 initialises the planned VUs before setup().
    const initialised = await Promise.all(
      Array.from({ length: planned }, () => newVu(nextVuId++, optionsJson)),
    );
    idle.push(...initialised);

    if (exportsList.includes('setup')) {
      const r = await callLifecycle('setup', null);
      if (r.error !== null) {
        errors.push(`setup: ${r.error}`);
        throw new RunFailure(
          `setup() failed: ${r.error}`,
          r.timedOut ? EXIT_CODES.setupTimeout : EXIT_CODES.scriptException,
        );
      }
      setupData = r.result;
    }

    testStart = Date.now();
    const instance = (): InstanceInfo => ({
      currentTestRunDuration: Date.now() - testStart,
      iterationsCompleted: completed,
      iterationsInterrupted: interrupted,
      vusActive: active.size,
      vusInitialized: nextVuId - 1,
    });
    const host: ExecutorHost = {
      segment,
      acquire: async () => {
        if (stopping) return null;
        const vu = idle.pop() ?? (await newVu(nextVuId++, optionsJson).catch(() => null));
        if (vu === null || stopping) {
          if (vu !== null) void vu.kill();
          return null;
        }
        active.add(vu);
        return vu;
      },
      release: (lent: LentVu) => {
        const vu = lent as VuHandle;
        active.delete(vu);
        if (!vu.dead && !stopping) idle.push(vu);
      },
      iterate: async (lent, scenario: ScenarioInfo, fn, iterationInScenario, hardStopAt) => {
        const vu = lent as VuHandle;
        const timer = setTimeout(() => void vu.kill(), Math.max(0, hardStopAt - Date.now()));
        try {
          const r = (await vu.run({
            op: 'iterate',
            fn,
            data: setupData,
            scenario,
            iterationInScenario,
            instance: instance(),
          })) as Extract<VuReport, { op: 'iterationDone' }>;
          completed++;
          if (r.error !== null) {
            errors.push(`${scenario.name} (VU ${vu.id}): ${r.error}`);
            emitLog(
              'error',
              `${r.error}  executor=${scenario.executor} scenario=${scenario.name}`,
              vu.id,
            );
          }
          return 'done';
        } catch (e) {
          if (!(e instanceof VuGoneError)) throw e;
          interrupted++;
          if (!stopping) {
            emitLog(
              'warn',
              `VU ${vu.id}: iteration of ${scenario.name} interrupted at its scenario's hard stop (maxDuration/duration + gracefulStop)`,
              -1,
            );
          }
          active.delete(vu);
          return 'interrupted';
        } finally {
          clearTimeout(timer);
        }
      },
      emit: (metric: string, value: number, tags: Tags) =>
        store.add({ metric, value, tags, time: Date.now() }),
      log: (level, text) => emitLog(level, text, -1),
      stopping: () => stopping,
      instance,
    };
    const evaluator = setInterval(() => {
      const abort = evaluateThresholds(thresholds, store, Date.now() - testStart, false);
      if (abort.length > 0) {
        stopAll(
          `thresholds on metrics '${abort.map((t) => t.key).join("', '")}' were crossed; at least one has abortOnFail enabled, stopping test prematurely`,
          EXIT_CODES.thresholdsFailed,
        );
      }
    }, 2000);
    try {
      await Promise.all(scenarios.map((sc) => runScenario(sc, host, testStart)));
    } finally {
      clearInterval(evaluator);
    }
    for (const vu of [...idle, ...active]) await vu.kill();
    idle.length = 0;
    active.clear();
    const runMs = Date.now() - testStart;

    if (exportsList.includes('teardown')) {
      const r = await callLifecycle('teardown', setupData);
      if (r.error !== null) {
        errors.push(`teardown: ${r.error}`);
        emitLog('error', `teardown() failed: ${r.error}`, 0);
        exitCode = r.timedOut ? EXIT_CODES.teardownTimeout : EXIT_CODES.scriptException;
      }
    }
    evaluateThresholds(thresholds, store, runMs, true);
    const trendStats =
      (options['summaryTrendStats'] as string[] | undefined) ?? DEFAULT_TREND_STATS;
    const input = {
      store,
      thresholds,
      testRunDurationMs: runMs,
      trendStats,
      setupData,
      scriptPath: opts.scriptPath,
      k6Version: profile.from,
    };
    const legacy = legacySummaryData(input);
    summaryData =
      opts.newMachineReadableSummary === true ? machineReadableSummaryData(input) : legacy;
    const outputs: Record<string, string> = {};
    if (exportsList.includes('handleSummary')) {
      const r = await callLifecycle('handleSummary', JSON.stringify(summaryData));
      if (r.error !== null) {
        // k6 logs the error and falls back to its default text summary.
        handleSummaryError = r.error;
        errors.push(`handleSummary: ${r.error}`);
        emitLog('error', `handleSummary() failed: ${r.error}`, 0);
      } else if (r.result !== null) {
        for (const [k, v] of Object.entries(JSON.parse(r.result) as Record<string, unknown>)) {
          outputs[k] = typeof v === 'string' ? v : JSON.stringify(v);
        }
      }
    }
    if (opts.summaryExport !== undefined) {
      outputs[opts.summaryExport] = JSON.stringify(
        opts.newMachineReadableSummary === true ? summaryData : summaryExport(legacy),
        null,
        4,
      );
    }
    for (const [target, text] of Object.entries(outputs)) {
      if (target === 'stdout') (opts.onStdout ?? ((t: string) => process.stdout.write(t)))(text);
      else if (target === 'stderr') process.stderr.write(text);
      else {
        const file = path.resolve(opts.cwd ?? process.cwd(), target);
        try {
          // k6 does not create directories; a missing one is an error it logs.
          writeFileSync(file, text);
          files[target] = text;
        } catch (e) {
          errors.push(`summary output ${target}: ${String(e)}`);
          emitLog('error', `could not write the summary to ${target}: ${String(e)}`, -1);
        }
      }
    }
    const failed = thresholds.filter((t) => t.lastFailed);
    if (exitCode === EXIT_CODES.ok) {
      if (aborted !== null) exitCode = abortExit;
      else if (failed.length > 0) exitCode = EXIT_CODES.thresholdsFailed;
      else if (markedFailed) exitCode = EXIT_CODES.markedAsFailed;
    }
    if (failed.length > 0) {
      emitLog(
        'error',
        `thresholds on metrics '${[...new Set(failed.map((t) => t.key))].join("', '")}' have been crossed`,
        -1,
      );
    }
  } catch (e) {
    if (!(e instanceof RunFailure)) throw e;
    errors.push(e.message);
    emitLog('error', e.message, -1);
    exitCode = e.exitCode;
  } finally {
    clearTimeout(safety);
    for (const vu of [...idle, ...active]) await vu.kill();
    await net?.stop();
  }
  return {
    exitCode,
    profile: profile.id,
    thresholds: thresholds.map((t) => ({ key: t.key, source: t.source, ok: !t.lastFailed })),
    logs,
    findings,
    errors,
    summaryData,
    handleSummaryError,
    files,
    aborted,
    iterations: { completed, interrupted },
    durationMs: Date.now() - started,
  };
}
