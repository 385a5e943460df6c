/**
 * connection-scaling: ramp WebSocket connections up step by step (scenarios.json `steps`, e.g.
 * 100 -> 20,000), hold each step, post a probe event during the hold and check that every held
 * connection received it, and record where and how the deployment stops: refused upgrades (503
 * from the droplet's WS_MAX_CONNECTIONS, 429/limit from API Gateway), handshake timeouts, or
 * connect latency collapsing. A holder stops climbing once more than `stopWhenFailedRatioAbove`
 * of a step's new connections failed, and holds what it has until the plan ends.
 *
 * Executor: per-vu-iterations with ONE holder VU per k6 instance (PARALLELISM of them in a
 * k6-operator run), so `ws_connections_open` (a gauge: last value wins) is that instance's exact
 * total at the end of each step (tag `step:<target>`); k6/websockets lets one VU hold tens of
 * thousands of sockets (each costs ~2 goroutines, so budget memory and file descriptors: ulimit -n).
 * A second scenario, `probe`, is a single driver VU posting the probes on the same time plan.
 *
 *   k6 run loadtest/k6/connection-scaling.ts
 *   k6 run -e TARGET=aws -e HTTP_URL=... -e WS_URL=... -e SLACK_SIGNING_SECRET=... loadtest/k6/connection-scaling.ts
 */
import exec from 'k6/execution';
import { sleep } from 'k6';
import type { Options } from 'k6/options';
import { ACK_P99_MS, DELIVERY_P99_MS, TARGET, WS_SETTINGS, loadScenario } from './lib/config.ts';
import { SUMMARY_TREND_STATS, wsConnectionsOpen } from './lib/metrics.ts';
import { ProbeSender, newRunContext, removeRunProbes, storedProbesAsync } from './lib/probes.ts';
import type { RunContext } from './lib/probes.ts';
import { preflight } from './lib/slack.ts';
import { makeHandleSummary } from './lib/summary.ts';
import { seconds, until } from './lib/timing.ts';
import { shareOf, targetPool } from './lib/ws-client.ts';

const params = loadScenario('connection-scaling');
const HOLDERS = WS_SETTINGS.parallelism;
const SETTLE_S = Math.ceil(WS_SETTINGS.connectTimeoutMs / 1000) + 2;
/** Probes are posted 1 s apart from the start of the hold; deliveries get this long after. */
const PROBE_WAIT_S = Math.max(5, Math.ceil(DELIVERY_P99_MS / 1000) * 2);

interface Step {
  readonly index: number;
  readonly target: number;
  readonly stream: string;
  /** Offsets from the scenario start. */
  readonly rampAtS: number;
  readonly holdAtS: number;
  readonly endAtS: number;
}

function plan(): Step[] {
  const steps: Step[] = [];
  let t = 0;
  let previous = 0;
  params.steps.forEach((target, index) => {
    const rampS =
      Math.ceil(Math.max(0, target - previous) / TARGET.connectRatePerSecond) + SETTLE_S;
    const holdS = Math.max(params.holdSeconds, params.probeUpdates + PROBE_WAIT_S);
    steps.push({
      index,
      target,
      stream: `s${index}n${target}`,
      rampAtS: t,
      holdAtS: t + rampS,
      endAtS: t + rampS + holdS,
    });
    t += rampS + holdS;
    previous = target;
  });
  return steps;
}

const STEPS = plan();
const TOTAL_S = STEPS.length === 0 ? 0 : (STEPS[STEPS.length - 1] as Step).endAtS;

function thresholds(): NonNullable<Options['thresholds']> {
  const t: NonNullable<Options['thresholds']> = {
    ws_connect_ms: ['p(95)<5000'],
    ws_connect_failed: [
      `count<=${Math.ceil(Math.max(...params.steps) * params.stopWhenFailedRatioAbove)}`,
    ],
    deliveries_missed: ['count==0'],
    deliveries_duplicate: ['count==0'],
    delivery_ms: [`p(99)<${DELIVERY_P99_MS}`],
    ack_ms: [`p(99)<${ACK_P99_MS}`],
    // Probes that cannot be posted leave every step unchecked: stop.
    ack_failed: [{ threshold: 'count==0', abortOnFail: true }],
  };
  for (const s of STEPS) {
    // Per-step figures in the summary; the gauge threshold reads "held at least (1 - ratio) of it".
    const share = Math.floor(s.target * (1 - params.stopWhenFailedRatioAbove)) / HOLDERS;
    t[`ws_connections_open{step:${s.target}}`] = [`value>=${Math.floor(share)}`];
    t[`ws_connect_ms{step:${s.target}}`] = ['p(95)<5000'];
    t[`ws_connect_failed{step:${s.target}}`] = [
      `count<=${Math.ceil(s.target * params.stopWhenFailedRatioAbove)}`,
    ];
    t[`deliveries_missed{step:${s.target}}`] = ['count==0'];
  }
  return t;
}

export const options: Options = {
  scenarios: {
    hold: {
      executor: 'per-vu-iterations',
      exec: 'hold',
      vus: HOLDERS,
      iterations: 1,
      maxDuration: seconds(TOTAL_S + 90),
      gracefulStop: '30s',
    },
    probe: {
      executor: 'per-vu-iterations',
      exec: 'probe',
      vus: 1,
      iterations: 1,
      maxDuration: seconds(TOTAL_S + 60),
    },
  },
  thresholds: thresholds(),
  summaryTrendStats: SUMMARY_TREND_STATS,
  teardownTimeout: '300s',
};

export function setup(): RunContext {
  preflight();
  const run = newRunContext();
  console.log(
    `connection-scaling run ${run.runId} against ${TARGET.name}: steps ${params.steps.join(', ')}, ` +
      `ramp ${TARGET.connectRatePerSecond}/s over ${HOLDERS} holder VU(s), plan ${TOTAL_S}s`,
  );
  return run;
}

/** The holder: climbs the steps, checks each, stops climbing where the deployment refuses. */
export async function hold(run: RunContext): Promise<void> {
  const slot = exec.scenario.iterationInTest;
  const startedMs = exec.scenario.startTime;
  const tags: Record<string, string> = {};
  const pool = targetPool(run.runId, slot, HOLDERS, { tags });
  let attempts = 0;
  for (const step of STEPS) {
    tags['step'] = String(step.target);
    const want = shareOf(step.target, slot, HOLDERS);
    const before = pool.records.length;
    const failedBefore = pool.failedCount();
    await until(startedMs + step.rampAtS * 1000);
    await pool.rampTo(want, startedMs + step.holdAtS * 1000);
    const tried = pool.records.length - before;
    const failed = pool.failedCount() - failedBefore;
    attempts += tried;
    await until(startedMs + step.endAtS * 1000);
    const open = pool.openCount();
    wsConnectionsOpen.add(open, tags);
    const probes = await storedProbesAsync(run.runId, step.stream);
    const missed = pool.countMissed(probes, 'since-open', 0);
    console.log(
      `step ${step.target}: holder ${slot} wants ${want}, holds ${open}; ${failed}/${tried} new connects failed; ` +
        `${missed} missed of ${probes?.length ?? 'unreadable'} probe(s) x ${open} clients`,
    );
    if (tried > 0 && failed / tried > params.stopWhenFailedRatioAbove) {
      console.warn(
        `step ${step.target}: ${((100 * failed) / tried).toFixed(1)}% of new connections failed ` +
          `(> ${100 * params.stopWhenFailedRatioAbove}%): the deployment stops here; not climbing further`,
      );
      break;
    }
  }
  tags['step'] = 'end';
  await pool.closeAll(10_000);
  pool.stop();
  console.log(`holder ${slot}: ${attempts} connection attempts, ${pool.failedCount()} failed`);
}

/** The driver: `probeUpdates` probe events at the start of every step's hold, 1 s apart. */
export function probe(run: RunContext): void {
  const sender = new ProbeSender(run, exec.vu.idInTest);
  const startedMs = exec.scenario.startTime;
  for (const step of STEPS) {
    for (let seq = 0; seq < params.probeUpdates; seq++) {
      const wait = startedMs + (step.holdAtS + 1 + seq) * 1000 - Date.now();
      if (wait > 0) sleep(wait / 1000);
      const res = sender.send(step.stream, seq);
      if (!res.ok) console.warn(`step ${step.target}: probe ${seq} answered ${res.status}`);
    }
  }
}

export default hold;

export function teardown(run: RunContext): void {
  removeRunProbes(run);
}

export const handleSummary = makeHandleSummary('connection-scaling', {
  ...params,
  holders: HOLDERS,
  connectTimeoutMs: WS_SETTINGS.connectTimeoutMs,
  plan: STEPS.map((s) => ({
    target: s.target,
    rampAtS: s.rampAtS,
    holdAtS: s.holdAtS,
    endAtS: s.endAtS,
  })),
});
