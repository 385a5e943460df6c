/**
 * idle-keepalive (k6 only; run it against AWS): API Gateway drops a WebSocket that is idle for
 * 10 minutes and any connection after 2 hours. `clients` dashboard clients connect and then stay
 * quiet except for an application ping (`{"action":"ping"}`) every `pingIntervalSeconds`; when a
 * connection is closed they reconnect (paced under the quota) and ask for a fresh snapshot, as
 * the dashboard does. The run lasts `durationSeconds` (7,500 s: past the 2-hour mark).
 *
 * Probe events are sparse on purpose (PROBE_INTERVAL_SECONDS, default 1,200 s, longer than the
 * idle timeout) so that only the pings keep the connections alive; one more probe is posted near
 * the end, after the 2-hour reconnects. Every client open across a probe's send and delivery
 * window must receive it (deliveries_missed). Reconnects show up as `ws_connect_ms{connect:
 * reconnect}`: about `clients` of them near 7,200 s is API Gateway's 2-hour limit; any before
 * that are premature closes, logged as such (the keep-alive did not work).
 *
 * Locally the droplet has neither limit and serverless-offline emulates neither: running it there
 * only checks the script. DURATION_SECONDS=120 PING_INTERVAL_SECONDS=30 makes a short rehearsal.
 */
import exec from 'k6/execution';
import { sleep } from 'k6';
import type { Options } from 'k6/options';
import { setInterval, clearInterval } from 'k6/timers';
import { DELIVERY_P99_MS, TARGET, WS_SETTINGS, envNumber, loadScenario } from './lib/config.ts';
import { SUMMARY_TREND_STATS, wsConnectionsOpen } from './lib/metrics.ts';
import { ProbeSender, newRunContext, removeRunProbes, storedProbesAsync } from './lib/probes.ts';
import type { RunContext } from './lib/probes.ts';
import { preflight } from './lib/slack.ts';
import { makeHandleSummary } from './lib/summary.ts';
import { seconds, until } from './lib/timing.ts';
import { shareOf, targetPool } from './lib/ws-client.ts';

const params = loadScenario('idle-keepalive');
const HOLDERS = WS_SETTINGS.parallelism;
/** API Gateway's maximum connection duration; closes well before it are premature. */
const MAX_CONNECTION_S = envNumber('MAX_CONNECTION_SECONDS', 7200, { min: 1 });
const PROBE_INTERVAL_S = envNumber('PROBE_INTERVAL_SECONDS', 1200, { min: 1 });
const WINDOW_MS = envNumber('DELIVERY_WINDOW_MS', Math.max(DELIVERY_P99_MS, 5000), { min: 1 });
const SETTLE_S = Math.ceil(WS_SETTINGS.connectTimeoutMs / 1000) + 2;
const RAMP_S = Math.ceil(params.clients / TARGET.connectRatePerSecond) + SETTLE_S;
const END_S = RAMP_S + params.durationSeconds;

/** Probe send times (offsets from the scenario start): sparse, plus one near the end. */
const PROBE_AT_S: number[] = (() => {
  const at: number[] = [];
  for (let t = RAMP_S + PROBE_INTERVAL_S; t < END_S - 90; t += PROBE_INTERVAL_S) at.push(t);
  at.push(Math.max(RAMP_S + 1, END_S - 60));
  return at;
})();

export const options: Options = {
  scenarios: {
    idle: {
      executor: 'per-vu-iterations',
      exec: 'idle',
      vus: HOLDERS,
      iterations: 1,
      maxDuration: seconds(END_S + 120),
      gracefulStop: '30s',
    },
    probe: {
      executor: 'per-vu-iterations',
      exec: 'probe',
      vus: 1,
      iterations: 1,
      maxDuration: seconds(END_S + 60),
    },
  },
  thresholds: {
    deliveries_missed: ['count==0'],
    deliveries_duplicate: ['count==0'],
    ws_connect_failed: ['count==0'],
    // Surfaces the reconnect count and latency in the summary.
    'ws_connect_ms{connect:reconnect}': ['p(95)<5000'],
    delivery_ms: [`p(99)<${DELIVERY_P99_MS}`],
    ack_failed: [{ threshold: 'count==0', abortOnFail: true }],
  },
  summaryTrendStats: SUMMARY_TREND_STATS,
  teardownTimeout: '120s',
};

export function setup(): RunContext {
  preflight();
  const run = newRunContext();
  console.log(
    `idle-keepalive run ${run.runId} against ${TARGET.name}: ${params.clients} clients for ` +
      `${params.durationSeconds}s, ping every ${params.pingIntervalSeconds}s, probes at ${PROBE_AT_S.join(', ')}s`,
  );
  if (TARGET.name !== 'aws')
    console.warn('idle-keepalive only means something against AWS (see the script header)');
  return run;
}

export async function idle(run: RunContext): Promise<void> {
  const slot = exec.scenario.iterationInTest;
  const startedMs = exec.scenario.startTime;
  let premature = 0;
  let atLimit = 0;
  const pool = targetPool(run.runId, slot, HOLDERS, {
    pingIntervalMs: params.pingIntervalSeconds * 1000,
    reconnect: true,
    tags: {},
    onServerClose: (r) => {
      const livedS = (Date.now() - r.openedMs) / 1000;
      if (livedS < MAX_CONNECTION_S - 60) {
        premature++;
        console.warn(
          `client ${r.id} closed by the server after ${livedS.toFixed(0)}s (premature: keep-alive failed?)`,
        );
      } else {
        atLimit++;
      }
    },
  });
  await pool.rampTo(shareOf(params.clients, slot, HOLDERS), startedMs + RAMP_S * 1000);
  const report = setInterval(() => {
    const open = pool.openCount();
    wsConnectionsOpen.add(open);
    console.log(
      `t=${((Date.now() - startedMs) / 1000).toFixed(0)}s open=${open} reconnects: ${atLimit} at the limit, ${premature} premature`,
    );
  }, 60_000);
  await until(startedMs + END_S * 1000);
  clearInterval(report);
  wsConnectionsOpen.add(pool.openCount());
  await pool.closeAll(10_000);
  pool.stop();
  const missed = pool.countMissed(
    await storedProbesAsync(run.runId, 'idle'),
    'while-open',
    WINDOW_MS,
  );
  console.log(
    `idle VU ${slot}: ${pool.records.length} connections, ${atLimit} closed at the ${MAX_CONNECTION_S}s limit, ` +
      `${premature} premature; ${missed} missed deliveries`,
  );
}

export function probe(run: RunContext): void {
  const sender = new ProbeSender(run, exec.vu.idInTest);
  const startedMs = exec.scenario.startTime;
  PROBE_AT_S.forEach((atS, seq) => {
    const wait = startedMs + atS * 1000 - Date.now();
    if (wait > 0) sleep(wait / 1000);
    const res = sender.send('idle', seq);
    if (!res.ok) console.warn(`idle probe ${seq} answered ${res.status}`);
  });
}

export default idle;

export function teardown(run: RunContext): void {
  removeRunProbes(run);
}

export const handleSummary = makeHandleSummary('idle-keepalive', {
  ...params,
  holders: HOLDERS,
  maxConnectionSeconds: MAX_CONNECTION_S,
  probeIntervalSeconds: PROBE_INTERVAL_S,
  probeAtSeconds: PROBE_AT_S,
  deliveryWindowMs: WINDOW_MS,
});
