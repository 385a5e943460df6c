/**
 * fan-out: N subscribed dashboard clients (N from scenarios.json `clients`, one step each); a
 * driver posts signed Slack events at a set rate; every client records, per event, the latency
 * from the POST to the update's receipt (delivery_ms), and afterwards the (client, event) pairs
 * it never got (deliveries_missed) and the updates it got twice (deliveries_duplicate).
 *
 * Per step two scenarios: `fanout_<i>_<N>` (per-vu-iterations, one iteration per VU, each VU
 * holding up to CONNS_PER_VU sockets, ramped under the target's connection quota) and, once the
 * ramp is over, `driver_<i>_<N>` (one VU posting probe events, see lib/probes.ts for how
 * receivers on other VUs compute latency from the event itself). Steps run one after another;
 * every sample is tagged `clients:N`, so the summary has per-N submetrics.
 *
 *   k6 run loadtest/k6/fan-out.ts                          # droplet on :3000
 *   k6 run -e TARGET=serverless-local -e QUICK=1 loadtest/k6/fan-out.ts
 */
import exec from 'k6/execution';
import { sleep } from 'k6';
import type { Options, Scenario } from 'k6/options';
import { ACK_P99_MS, DELIVERY_P99_MS, TARGET, WS_SETTINGS, loadScenario } from './lib/config.ts';
import { SUMMARY_TREND_STATS } from './lib/metrics.ts';
import { ProbeSender, newRunContext, removeRunProbes, storedProbesAsync } from './lib/probes.ts';
import type { RunContext } from './lib/probes.ts';
import { preflight } from './lib/slack.ts';
import { makeHandleSummary } from './lib/summary.ts';
import { seconds, until } from './lib/timing.ts';
import { shareOf, targetPool } from './lib/ws-client.ts';

const params = loadScenario('fan-out');

/** After the last open is started, handshakes may take up to the connect timeout; then snapshots. */
const SETTLE_S = Math.ceil(WS_SETTINGS.connectTimeoutMs / 1000) + 2;
/** Closing, reading back the stored probes and counting. */
const WRAP_UP_S = 15;

interface Step {
  readonly index: number;
  readonly clients: number;
  readonly vus: number;
  readonly stream: string;
  readonly receivers: string;
  readonly driver: string;
  readonly startS: number;
  /** Offsets from the step's start. */
  readonly driverAtS: number;
  readonly checkAtS: number;
  readonly durationS: number;
}

function plan(): Step[] {
  const steps: Step[] = [];
  let t = 0;
  params.clients.forEach((clients, index) => {
    const vus = Math.max(
      WS_SETTINGS.parallelism,
      Math.ceil(clients / WS_SETTINGS.connectionsPerVu),
    );
    const driverAtS = Math.ceil(clients / TARGET.connectRatePerSecond) + SETTLE_S;
    const driveS = Math.ceil(params.events / params.eventsPerSecond);
    const checkAtS = driverAtS + driveS + params.deliveryTimeoutSeconds;
    const durationS = checkAtS + WRAP_UP_S;
    steps.push({
      index,
      clients,
      vus,
      stream: `s${index}c${clients}`,
      receivers: `fanout_${index}_${clients}`,
      driver: `driver_${index}_${clients}`,
      startS: t,
      driverAtS,
      checkAtS,
      durationS,
    });
    t += durationS + 2;
  });
  return steps;
}

const STEPS = plan();

function currentStep(): Step {
  const name = exec.scenario.name;
  const step = STEPS.find((s) => s.receivers === name || s.driver === name);
  if (step === undefined) throw new Error(`scenario ${name} is not part of the fan-out plan`);
  return step;
}

function scenarios(): Record<string, Scenario> {
  const out: Record<string, Scenario> = {};
  for (const s of STEPS) {
    const tags = { clients: String(s.clients) };
    out[s.receivers] = {
      executor: 'per-vu-iterations',
      exec: 'receivers',
      vus: s.vus,
      iterations: 1,
      startTime: seconds(s.startS),
      maxDuration: seconds(s.durationS + 60),
      gracefulStop: '30s',
      tags,
    };
    out[s.driver] = {
      executor: 'per-vu-iterations',
      exec: 'driver',
      vus: 1,
      iterations: 1,
      startTime: seconds(s.startS + s.driverAtS),
      maxDuration: seconds(params.events / params.eventsPerSecond + 60),
      tags,
    };
  }
  return out;
}

const maxClients = Math.max(...params.clients);

function thresholds(): NonNullable<Options['thresholds']> {
  const t: NonNullable<Options['thresholds']> = {
    delivery_ms: [`p(99)<${DELIVERY_P99_MS}`],
    deliveries_missed: ['count==0'],
    deliveries_duplicate: ['count==0'],
    // Clients that cannot connect make the delivery figures meaningless: stop early.
    ws_connect_failed: [
      {
        threshold: `count<=${Math.ceil(maxClients * 0.01)}`,
        abortOnFail: true,
        delayAbortEval: '5s',
      },
    ],
    ack_ms: [`p(99)<${ACK_P99_MS}`],
    // A driver whose events are refused (401, 5xx) measures nothing.
    ack_failed: [{ threshold: 'count==0', abortOnFail: true }],
  };
  for (const s of STEPS) {
    // One threshold per N also makes the summary carry per-N figures (submetrics).
    t[`delivery_ms{clients:${s.clients}}`] = [`p(99)<${DELIVERY_P99_MS}`];
    t[`deliveries_missed{clients:${s.clients}}`] = ['count==0'];
    t[`ws_connect_ms{clients:${s.clients}}`] = ['p(95)<5000'];
  }
  return t;
}

export const options: Options = {
  scenarios: scenarios(),
  thresholds: thresholds(),
  summaryTrendStats: SUMMARY_TREND_STATS,
  setupTimeout: '60s',
  teardownTimeout: '300s',
};

export function setup(): RunContext {
  preflight();
  const run = newRunContext();
  console.log(
    `fan-out run ${run.runId} against ${TARGET.name}: clients ${params.clients.join(', ')}, ` +
      `${params.events} events at ${params.eventsPerSecond}/s, ramp ${TARGET.connectRatePerSecond}/s`,
  );
  return run;
}

/** One VU of a step's receivers: holds its share of the N clients until the deliveries are in. */
export async function receivers(run: RunContext): Promise<void> {
  const step = currentStep();
  const slot = exec.scenario.iterationInTest;
  const count = shareOf(step.clients, slot, step.vus);
  if (count === 0) return;
  const startedMs = exec.scenario.startTime;
  const pool = targetPool(run.runId, slot, step.vus, { tags: { clients: String(step.clients) } });
  await pool.rampTo(count, startedMs + step.driverAtS * 1000);
  const held = pool.openCount();
  await until(startedMs + step.checkAtS * 1000);
  await pool.closeAll(5000);
  pool.stop();
  const probes = await storedProbesAsync(run.runId, step.stream);
  const missed = pool.countMissed(probes, 'since-open', 0);
  if (missed > 0 || held < count) {
    console.warn(
      `N=${step.clients} slot ${slot}: held ${held}/${count}, ${probes?.length ?? 'unreadable'} events, ${missed} missed deliveries`,
    );
  }
}

/** The step's driver: posts `events` probe events at `eventsPerSecond`. */
export function driver(run: RunContext): void {
  const step = currentStep();
  const sender = new ProbeSender(run, exec.vu.idInTest);
  const t0 = Date.now();
  for (let seq = 0; seq < params.events; seq++) {
    const wait = t0 + (seq * 1000) / params.eventsPerSecond - Date.now();
    if (wait > 0) sleep(wait / 1000);
    const res = sender.send(step.stream, seq);
    if (!res.ok) console.warn(`N=${step.clients}: event ${seq} answered ${res.status}`);
  }
}

export default receivers;

export function teardown(run: RunContext): void {
  removeRunProbes(run);
}

export const handleSummary = makeHandleSummary('fan-out', {
  ...params,
  connectionsPerVu: WS_SETTINGS.connectionsPerVu,
  connectTimeoutMs: WS_SETTINGS.connectTimeoutMs,
  connectGraceMs: WS_SETTINGS.connectGraceMs,
  parallelism: WS_SETTINGS.parallelism,
  deliveryP99Ms: DELIVERY_P99_MS,
  steps: STEPS.map((s) => ({
    clients: s.clients,
    vus: s.vus,
    startS: s.startS,
    driverAtS: s.driverAtS,
  })),
  latency:
    'probe send time embedded in the emoji name; receipt = k6 frame read time (same clock assumed)',
});
