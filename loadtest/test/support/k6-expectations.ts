/**
 * What a load tester relies on when a k6 script ends, checked on a harness run: sockets closed
 * when the iteration ended, getReactions (and pings) went out, probes made the round trip, the
 * deployment accepted the signatures, the summary file parses, no iteration hung. Each check
 * returns readable violations, so a test can assert none for the scripts as they are and some
 * for a script with a planted bug.
 */
import { countingSettled } from '../../src/runner/counting-settled.js';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runK6Script } from '../../k6-harness/engine.js';
import type { RunOptions, RunResult } from '../../k6-harness/engine.js';

const loadtestDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A k6 script run with its summary file parsed. */
export interface ScriptRun {
  readonly result: RunResult;
  readonly summaryFile: string;
  /** The reactometer summary JSON handleSummary wrote (null when it wrote none). */
  readonly summary: SummaryFile | null;
}

export interface SummaryFile {
  readonly metrics: Record<string, Record<string, unknown>>;
  readonly reactometer: {
    readonly scenario: string;
    readonly target: string;
    readonly runId: string | null;
    readonly tool: string;
    readonly thresholdsKnown: boolean;
    readonly params: Record<string, unknown>;
  };
}

let runCounter = 0;

/** Runs `loadtest/k6/<script>` (or the copy under `scriptsDir`) under the harness. */
export async function runScript(
  script: string,
  k6Version: string,
  env: Record<string, string>,
  extra: Partial<RunOptions> & { scriptsDir?: string } = {},
): Promise<ScriptRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'k6-harness-run-'));
  const summaryFile = path.join(dir, `summary-${++runCounter}.json`);
  const { scriptsDir, ...options } = extra;
  const result = await runK6Script({
    scriptPath: path.join(scriptsDir ?? path.join(loadtestDir, 'k6'), script),
    k6Version,
    env: { SUMMARY_FILE: summaryFile, ...env },
    onLog: () => undefined,
    onStdout: () => undefined,
    maxRunMs: 240_000,
    ...options,
  });
  const text = result.files[summaryFile];
  return {
    result,
    summaryFile,
    summary: text === undefined ? null : (JSON.parse(text) as SummaryFile),
  };
}

function count(summary: SummaryFile | null, metric: string): number {
  const v = summary?.metrics[metric]?.['count'];
  return typeof v === 'number' ? v : 0;
}

export interface Expectations {
  readonly scenario: string;
  readonly target: string;
  /** The script holds WebSockets: each must be closed within its iteration and ask for a snapshot. */
  readonly sockets: boolean;
  /** The script sends probes: deliveries must arrive, none missed. */
  readonly probes: boolean;
  /** Least pings every opened socket must have sent (idle-keepalive). */
  readonly pingsPerSocket?: number;
  /** This instance posts Slack events (false for a k6-operator runner without the driver VU). */
  readonly acks?: boolean;
}

/** What went wrong for a load tester in this run; empty when it went as they rely on. */
export function loadTesterViolations(run: ScriptRun, e: Expectations): string[] {
  const { result, summary } = run;
  const v: string[] = [];
  if (result.exitCode !== 0) {
    const failed = result.thresholds.filter((t) => !t.ok).map((t) => `${t.key}: ${t.source}`);
    v.push(`exit code ${result.exitCode}; failed thresholds: ${failed.join('; ') || 'none'}`);
  }
  for (const f of result.findings) v.push(`finding: ${f}`);
  if (result.iterations.interrupted > 0) {
    v.push(`${result.iterations.interrupted} iteration(s) hung until their hard stop`);
  }
  for (const err of result.errors) v.push(`error: ${err}`);
  if (summary === null) {
    v.push('handleSummary wrote no parsable summary file');
    return withLogs(v, result);
  }
  if (summary.reactometer.scenario !== e.scenario || summary.reactometer.target !== e.target) {
    v.push(`summary names ${summary.reactometer.scenario}/${summary.reactometer.target}`);
  }
  if (e.acks !== false && count(summary, 'ack_ms') === 0) v.push('no Slack event was acknowledged');
  if (count(summary, 'ack_failed') > 0) {
    v.push(`${count(summary, 'ack_failed')} Slack event(s) refused (signature?)`);
  }
  if (e.sockets) {
    const opened = count(summary, 'ws_sessions') - count(summary, 'ws_connect_failed');
    const closed = count(summary, 'ws_session_duration');
    if (opened <= 0) v.push('no WebSocket opened');
    if (closed !== opened)
      v.push(`${opened} WebSocket(s) opened but ${closed} closed in their iteration`);
    const sent = count(summary, 'ws_msgs_sent');
    const wanted = opened * (1 + (e.pingsPerSocket ?? 0));
    if (sent < wanted) {
      v.push(
        `${sent} WebSocket message(s) sent; wanted ${wanted} (a getReactions per socket + pings)`,
      );
    }
  }
  if (e.probes) {
    if (count(summary, 'delivery_ms') === 0) v.push('no probe delivery measured');
    if (count(summary, 'deliveries_missed') > 0) {
      v.push(`${count(summary, 'deliveries_missed')} missed deliveries`);
    }
  }
  return withLogs(v, result);
}

/** A failing check says why: the run's warnings and errors come with its violations. */
function withLogs(violations: string[], result: RunResult): string[] {
  if (violations.length === 0) return violations;
  const logs = result.logs
    .filter((l) => l.level === 'warn' || l.level === 'error')
    .slice(0, 12)
    .map((l) => `log ${l.level} (VU ${l.vu}): ${l.text.slice(0, 300)}`);
  return [...violations, ...logs];
}

/** Reaction counts by emoji, without probe reactions (`lt_...`). */
export async function nonProbeCounts(httpUrl: string): Promise<Record<string, number>> {
  const all = await reactions(httpUrl);
  return Object.fromEntries(
    all.filter((r) => !r.emoji.startsWith('lt_')).map((r) => [r.emoji, r.count]),
  );
}

/** Probe reactions of a run still counted by the deployment. */
export async function leftoverProbes(httpUrl: string, runId: string): Promise<string[]> {
  return (await reactions(httpUrl))
    .filter((r) => r.emoji.startsWith(`lt_${runId}_`) && r.count > 0)
    .map((r) => r.emoji);
}

async function reactions(httpUrl: string): Promise<{ emoji: string; count: number }[]> {
  await countingSettled(httpUrl);
  const res = await fetch(`${httpUrl}/reactions`);
  if (res.status !== 200) throw new Error(`GET /reactions answered ${res.status}`);
  return ((await res.json()) as { reactions: { emoji: string; count: number }[] }).reactions;
}

/** One planted bug: a text replacement in a file under loadtest/k6 (it must match). */
export interface Mutation {
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

/**
 * A copy of loadtest/k6 and loadtest/scenarios (the scripts open ../scenarios) with the bugs
 * planted; returns the copied k6 directory.
 */
export function plantBugs(mutations: readonly Mutation[]): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'k6-planted-'));
  cpSync(path.join(loadtestDir, 'k6'), path.join(root, 'k6'), { recursive: true });
  cpSync(path.join(loadtestDir, 'scenarios'), path.join(root, 'scenarios'), { recursive: true });
  for (const m of mutations) {
    const file = path.join(root, 'k6', m.file);
    const text = readFileSync(file, 'utf8');
    if (!text.includes(m.from)) throw new Error(`planted bug: "${m.from}" not in ${m.file}`);
    writeFileSync(file, text.split(m.from).join(m.to));
  }
  return path.join(root, 'k6');
}
