/**
 * ingest: signed Slack reaction events at rising rates (scenarios.json `rates`, each held
 * `stepSeconds`); acknowledgement latency (ack_ms) and failures (ack_failed).
 *
 * Open loop: one constant-arrival-rate scenario per rate, started one after another. k6 starts
 * iterations on schedule whether or not earlier requests have been answered, so a slow server
 * cannot slow the offered load down (a closed loop would hide exactly the queueing we want to
 * see); ack_ms runs from the iteration's scheduled start. If k6 runs out of VUs it drops
 * iterations (dropped_iterations) rather than sending late, and a threshold fails the run then
 * (the step offered less than its label): raise MAX_VUS_PER_RATE if that shows.
 * Every sample is tagged `rate:<n>`, giving per-rate submetrics in the summary.
 *
 * The events are realistic: Zipf-popular emoji with skin tones, many users and messages, ~12%
 * removals, unique event ids per VU and iteration, event_ts with microseconds (lib/slack.ts).
 */
import exec from 'k6/execution';
import type { Options, Scenario } from 'k6/options';
import { ACK_P99_MS, TARGET, envNumber, loadScenario } from './lib/config.ts';
import { SUMMARY_TREND_STATS } from './lib/metrics.ts';
import { newRunContext } from './lib/probes.ts';
import type { RunContext } from './lib/probes.ts';
import { ReactionTraffic, postEvent, preflight, reactionEventBody } from './lib/slack.ts';
import { makeHandleSummary } from './lib/summary.ts';
import { seconds } from './lib/timing.ts';

const params = loadScenario('ingest');
/** Share of events that may fail before the run is stopped as pointless. */
const MAX_FAILED_RATIO = envNumber('MAX_FAILED_RATIO', 0.01, { min: 0, max: 1 });
/** VUs per unit of rate k6 may use: at 1 s ack latency a rate r needs r VUs in flight. */
const MAX_VUS_PER_RATE = envNumber('MAX_VUS_PER_RATE', 2, { min: 0.1 });

const totalEvents = params.rates.reduce((sum, r) => sum + r * params.stepSeconds, 0);

function maxVus(rate: number): number {
  return Math.max(10, Math.ceil(rate * MAX_VUS_PER_RATE));
}

function scenarioName(index: number, rate: number): string {
  return `ingest_${index}_${rate}`;
}

function scenarios(): Record<string, Scenario> {
  const out: Record<string, Scenario> = {};
  let t = 0;
  params.rates.forEach((rate, index) => {
    out[scenarioName(index, rate)] = {
      executor: 'constant-arrival-rate',
      exec: 'ingest',
      rate,
      timeUnit: '1s',
      duration: seconds(params.stepSeconds),
      // Open loop needs rate x ack latency VUs in flight. Pre-allocated for the slowest ack the
      // thresholds accept (ACK_P99_MS), so a slow start (Lambda cold starts) drops nothing: k6
      // drops every iteration that finds no free VU while it initialises another, and
      // dropped_iterations fails the run. More (up to maxVUs) if the server slows down further.
      preAllocatedVUs: Math.min(maxVus(rate), Math.max(2, Math.ceil((rate * ACK_P99_MS) / 1000))),
      maxVUs: maxVus(rate),
      startTime: seconds(t),
      gracefulStop: '10s',
      tags: { rate: String(rate) },
    };
    t += params.stepSeconds + 1;
  });
  return out;
}

function thresholds(): NonNullable<Options['thresholds']> {
  const t: NonNullable<Options['thresholds']> = {
    ack_ms: [`p(99)<${ACK_P99_MS}`],
    // 401s (wrong secret) or a dead store make the rest of the run pointless.
    ack_failed: [
      {
        threshold: `count<=${Math.floor(totalEvents * MAX_FAILED_RATIO)}`,
        abortOnFail: true,
        delayAbortEval: '5s',
      },
    ],
  };
  // Iterations k6 could not start on time (no free VU) were never offered: the step's real rate
  // was below its label. dropped_iterations carries only the `scenario` tag, not `rate`.
  t['dropped_iterations'] = ['count==0'];
  params.rates.forEach((rate, index) => {
    t[`dropped_iterations{scenario:${scenarioName(index, rate)}}`] = ['count==0'];
  });
  for (const rate of params.rates) {
    t[`ack_ms{rate:${rate}}`] = [`p(99)<${ACK_P99_MS}`];
    t[`ack_failed{rate:${rate}}`] = [
      `count<=${Math.floor(rate * params.stepSeconds * MAX_FAILED_RATIO)}`,
    ];
  }
  return t;
}

export const options: Options = {
  scenarios: scenarios(),
  thresholds: thresholds(),
  summaryTrendStats: SUMMARY_TREND_STATS,
  // Responses are small, but we do not read them: save k6 the copies.
  discardResponseBodies: true,
};

export function setup(): RunContext {
  preflight();
  const run = newRunContext();
  console.log(
    `ingest run ${run.runId} against ${TARGET.name}: ${params.rates.join(', ')} events/s, ` +
      `${params.stepSeconds}s each (${totalEvents} events)`,
  );
  return run;
}

// One generator per VU (module scope is per VU in k6); created lazily because the run id comes
// from setup().
let traffic: ReactionTraffic | null = null;

export function ingest(run: RunContext): void {
  // The iteration starts at its scheduled time (open loop), so ack latency counts from here.
  const scheduledMs = Date.now();
  if (traffic === null) traffic = new ReactionTraffic(run.runId, exec.vu.idInTest);
  const body = reactionEventBody(traffic.next());
  const res = postEvent(body, { kind: 'ingest' }, scheduledMs);
  if (!res.ok && exec.vu.iterationInScenario === 0) {
    console.warn(`VU ${exec.vu.idInTest}: POST /slack/events answered ${res.status}`);
  }
}

export default ingest;

export const handleSummary = makeHandleSummary('ingest', {
  ...params,
  totalEvents,
  maxFailedRatio: MAX_FAILED_RATIO,
  maxVusPerRate: MAX_VUS_PER_RATE,
  ackP99Ms: ACK_P99_MS,
  executor: 'constant-arrival-rate per rate (open loop)',
});
