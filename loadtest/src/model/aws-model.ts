/**
 * The AWS model: what the deployed serverless design would do on AWS, for N dashboards and a
 * rate of count changes. Every parameter comes from loadtest/cost/aws-model.json (quotas, hop
 * latencies, cold starts, the assumed PostToConnection round trip, CPU per post measured by the
 * bench) or from the design itself (serverless/src/config.ts FANOUT_DEFAULTS). Nothing here
 * reads files or the clock: `aws-model-file.ts` loads the parameters.
 *
 * One update (the leading edge: nothing else pending): SNS -> coordinator (cold start now and
 * then) -> four gate and count operations -> segment 0 here and S-1 workers invoked -> each
 * worker paces its slice of the throttle. The flush itself is the fan-out simulation (devkit),
 * the one checked against the @connections stand-in; hops and cold starts are drawn per update.
 *
 * Steady state at R changes/s: a flush holds the gate for its duration plus the window; changes
 * meanwhile join the next flush (`coalescedFlushRate`). Requests against the account throttle are
 * the updates plus what dashboards send anyway (pings, reconnects) and Slack's HTTP requests.
 */
import {
  createHistogram,
  latencySampler,
  medianMs,
  recordMs,
  seededRandom,
  simulateFanOut,
  type LatencyDistribution,
} from '@reactometer/devkit';
import { DEFAULT_CONNECTIONS_PAGE_SIZE, FANOUT_DEFAULTS } from '@reactometer/serverless';
import { workerLimits, workersFor, type ShardPlanOptions } from '@reactometer/shared';
import {
  coalescedFlushRate,
  DEFAULT_ASSUMPTIONS,
  serverlessCost,
  type Assumptions,
  type Prices,
} from '../cost/cost-model.js';

/** The model's parameters (loadtest/cost/aws-model.json, see `parametersFromFile`). */
export interface AwsParameters {
  readonly throttle: { readonly ratePerSecond: number; readonly burst: number };
  readonly snsToLambda: LatencyDistribution;
  readonly lambdaInvoke: LatencyDistribution;
  readonly dynamoDbRequest: LatencyDistribution;
  readonly dynamoDbScanPage: LatencyDistribution;
  readonly postToConnectionRoundTrip: LatencyDistribution;
  readonly coldStartShare: number;
  readonly coldStart: LatencyDistribution;
  /** This machine's core, per post (the bench). */
  readonly cpuPerPostUs: number;
  readonly lambdaMemoryPerVcpuMb: number;
  readonly lambdaConcurrencyQuota: number;
  readonly gateMarkInvocationMs: number;
  readonly perDashboard: {
    readonly pingsPerHour: number;
    readonly requestsPerPing: number;
    readonly sessionHours: number;
    readonly requestsPerSession: number;
  };
  readonly slackEventCap: number;
}

/** The deployed design, from serverless/src/config.ts and serverless.yml. */
export interface Design {
  readonly windowMs: number;
  readonly concurrency: number;
  /** Share of the throttle the fan-out's workers pace to (0-1). */
  readonly share: number;
  readonly shards: ShardPlanOptions;
  readonly pageSize: number;
  readonly fanoutMemoryMb: number;
}

export const DEFAULT_DESIGN: Design = {
  windowMs: FANOUT_DEFAULTS.windowMs,
  concurrency: FANOUT_DEFAULTS.concurrency,
  share: FANOUT_DEFAULTS.throttleSharePercent / 100,
  shards: {
    threshold: FANOUT_DEFAULTS.shardThreshold,
    connectionsPerWorker: FANOUT_DEFAULTS.connectionsPerWorker,
    maxWorkers: FANOUT_DEFAULTS.maxWorkers,
  },
  pageSize: DEFAULT_CONNECTIONS_PAGE_SIZE,
  fanoutMemoryMb: DEFAULT_ASSUMPTIONS.fanoutMemoryMb,
};

export interface ModelInput {
  readonly clients: number;
  /** Count changes per second at the peak (Slack's cap per workspace: 8.3). */
  readonly eventsPerSecond: number;
  /** Hours a day dashboards are open, for the monthly figures (default 8). */
  readonly hoursConnectedPerDay?: number;
  /** Events per day for the cost; default: the rate sustained over the open hours. */
  readonly eventsPerDay?: number;
  /** Monte Carlo draws of one update's hops (default 300). */
  readonly trials?: number;
  readonly seed?: number;
}

export interface ModelResult extends Omit<UpdateShape, 'workerMs' | 'busiestSecondPosts'> {
  readonly clients: number;
  /** Time the gate is held per flush at a sustained rate: flush plus window. */
  readonly cycleMs: number;
  readonly updatesPerDashboardPerSecond: number;
  readonly fanOutRequestsPerSecond: number;
  readonly otherRequestsPerSecond: number;
  /** All API Gateway requests per second at the given (peak) rate, averaged over a cycle. */
  readonly peakRequestsPerSecond: number;
  /** The most requests in any one second (a flush's burst, within the bucket's allowance). */
  readonly busiestSecondRequests: number;
  readonly throttleRequestsPerSecond: number;
  readonly throttleBurst: number;
  readonly underThrottle: boolean;
  readonly lambdaConcurrency: number;
  readonly messagesPerMonth: number;
  readonly monthlyCostUsd: number;
  /** The same traffic with coalescing off (FANOUT_WINDOW_MS=0). */
  readonly monthlyCostUncoalescedUsd: number;
}

/** A Lambda at `memoryMb` runs this machine's CPU work this much slower (1,769 MB = 1 vCPU). */
export function lambdaCpuFactor(memoryMb: number, memoryPerVcpuMb: number): number {
  return 1 / Math.min(1, memoryMb / memoryPerVcpuMb);
}

/** Requests a dashboard sends besides updates, per second (pings, reconnects). */
export function dashboardRequestsPerSecond(p: AwsParameters): number {
  const d = p.perDashboard;
  return (d.pingsPerHour * d.requestsPerPing + d.requestsPerSession / d.sessionHours) / 3600;
}

interface UpdateShape {
  readonly workers: number;
  /** Delivery latency of one update, from the count change's publish to a dashboard. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** From the publish to the last dashboard, median over draws (and its 99th percentile). */
  readonly finishMs: number;
  readonly finishP99Ms: number;
  /** One flush: gate operations and the sharded fan-out (no SNS hop). */
  readonly flushMs: number;
  /** Worker time per update, summed over workers (what Lambda bills). */
  readonly workerMs: number;
  readonly busiestSecondPosts: number;
}

/** One isolated update to `clients` dashboards (see the file's comment). */
export function modelOneUpdate(
  clients: number,
  p: AwsParameters,
  design: Design,
  options: { readonly trials?: number; readonly seed?: number } = {},
): UpdateShape {
  const workers = workersFor(clients, design.shards);
  const limits = workerLimits(workers, {
    accountRatePerSecond: p.throttle.ratePerSecond,
    accountBurst: p.throttle.burst,
    share: design.share,
  });
  const seed = options.seed ?? 9;
  const sim = simulateFanOut({
    connections: clients,
    workers,
    concurrency: design.concurrency,
    limits,
    postRoundTrip: p.postToConnectionRoundTrip,
    cpuPerPostMs:
      (p.cpuPerPostUs / 1000) * lambdaCpuFactor(design.fanoutMemoryMb, p.lambdaMemoryPerVcpuMb),
    cpus: 'per-worker',
    pageSize: design.pageSize,
    pageRoundTrip: p.dynamoDbScanPage,
    seed,
  });
  const random = seededRandom(seed + 1);
  const hop = latencySampler(p.snsToLambda, random);
  const dynamo = latencySampler(p.dynamoDbRequest, random);
  const invoke = latencySampler(p.lambdaInvoke, random);
  const cold = latencySampler(p.coldStart, random);
  const coldStart = () => (random() < p.coldStartShare ? cold() : 0);

  const trials = options.trials ?? 300;
  const perTrial = Math.min(clients, 1_500);
  const latency = createHistogram();
  const finishes: number[] = [];
  const flushes: number[] = [];
  for (let t = 0; t < trials; t++) {
    // Mark dirty, take the lease, take the set, read the counts: then the flush starts.
    const gate = dynamo() + dynamo() + dynamo() + dynamo();
    const start = hop() + coldStart() + gate;
    const offsets = Array.from({ length: workers }, (_, w) =>
      w === 0 ? 0 : invoke() + coldStart(),
    );
    let last = 0;
    for (let w = 0; w < workers; w++) last = Math.max(last, offsets[w]! + sim.workerFinishMs[w]!);
    finishes.push(start + last);
    flushes.push(gate + last);
    for (let k = 0; k < perTrial; k++) {
      const c = Math.floor(random() * clients);
      recordMs(latency, start + offsets[sim.workerOf[c]!]! + sim.deliveries[c]!);
    }
  }
  const at = (xs: number[], q: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  };
  return {
    workers,
    p50Ms: latency.getValueAtPercentile(50) / 1000,
    p99Ms: latency.getValueAtPercentile(99) / 1000,
    finishMs: at(finishes, 0.5),
    finishP99Ms: at(finishes, 0.99),
    flushMs: at(flushes, 0.5),
    workerMs: sim.workerFinishMs.reduce((a, b) => a + b, 0),
    busiestSecondPosts: sim.busiestSecondPosts,
  };
}

export interface ModelContext {
  readonly parameters: AwsParameters;
  readonly design: Design;
  readonly prices: Prices;
  readonly assumptions?: Assumptions;
}

/** The model's answer for one N at one rate (see `ModelResult`). */
export function modelAws(input: ModelInput, ctx: ModelContext): ModelResult {
  const { parameters: p, design } = ctx;
  const n = Math.max(1, Math.round(input.clients));
  const shape = modelOneUpdate(n, p, design, {
    ...(input.trials === undefined ? {} : { trials: input.trials }),
    ...(input.seed === undefined ? {} : { seed: input.seed }),
  });
  const rate = Math.max(0, input.eventsPerSecond);
  const gateMs = 3 * medianMs(p.dynamoDbRequest);
  // Held per flush: the flush, the release and the look at the set, then the quiet window.
  const cycleMs = shape.flushMs + gateMs + design.windowMs;
  const flushesPerSecond = design.windowMs > 0 ? coalescedFlushRate(rate, cycleMs / 1000) : rate;
  const fanOutRequestsPerSecond = n * flushesPerSecond;
  const otherRequestsPerSecond = n * dashboardRequestsPerSecond(p) + rate;
  const peakRequestsPerSecond = fanOutRequestsPerSecond + otherRequestsPerSecond;
  const busiestSecondRequests = shape.busiestSecondPosts + otherRequestsPerSecond;
  const underThrottle =
    peakRequestsPerSecond <= p.throttle.ratePerSecond &&
    busiestSecondRequests <= p.throttle.ratePerSecond + p.throttle.burst;

  // Little's law per function: invocations per second x their duration.
  const wsPerSecond =
    n *
    (p.perDashboard.pingsPerHour / 3600 +
      (p.perDashboard.requestsPerSession - 1) / (p.perDashboard.sessionHours * 3600));
  const a = ctx.assumptions ?? DEFAULT_ASSUMPTIONS;
  const lambdaConcurrency = Math.ceil(
    shape.workers +
      (rate * p.gateMarkInvocationMs) / 1000 +
      (wsPerSecond * a.wsRouteMs) / 1000 +
      (rate * a.slackEventMs) / 1000,
  );

  const hours = input.hoursConnectedPerDay ?? 8;
  const eventsPerDay = input.eventsPerDay ?? rate * 3600 * hours;
  const traffic = { clients: n, eventsPerDay, hoursConnectedPerDay: hours };
  const priced: Assumptions = {
    ...a,
    coalesceWindowMs: design.windowMs,
    fanoutMemoryMb: design.fanoutMemoryMb,
    fanoutBaseMs: gateMs,
    fanoutMsPer100: (shape.workerMs / n) * 100,
  };
  const cost = serverlessCost(traffic, ctx.prices, priced);
  const uncoalesced = serverlessCost(traffic, ctx.prices, { ...priced, coalesceWindowMs: 0 });
  return {
    clients: n,
    workers: shape.workers,
    p50Ms: shape.p50Ms,
    p99Ms: shape.p99Ms,
    finishMs: shape.finishMs,
    finishP99Ms: shape.finishP99Ms,
    flushMs: shape.flushMs,
    cycleMs,
    updatesPerDashboardPerSecond: flushesPerSecond,
    fanOutRequestsPerSecond,
    otherRequestsPerSecond,
    peakRequestsPerSecond,
    busiestSecondRequests,
    throttleRequestsPerSecond: p.throttle.ratePerSecond,
    throttleBurst: p.throttle.burst,
    underThrottle,
    lambdaConcurrency,
    messagesPerMonth: cost.usage.messagesInbound + cost.usage.messagesOutbound,
    monthlyCostUsd: cost.monthly,
    monthlyCostUncoalescedUsd: uncoalesced.monthly,
  };
}

/**
 * The largest N whose requests stay under the throttle at `eventsPerSecond` (bisection: the
 * requests grow with N). Null when even `hi` stays under.
 */
export function largestUnderThrottle(
  eventsPerSecond: number,
  ctx: ModelContext,
  range: { readonly lo: number; readonly hi: number } = { lo: 100, hi: 2_000_000 },
): number | null {
  const under = (n: number) =>
    modelAws({ clients: n, eventsPerSecond, trials: 20 }, ctx).underThrottle;
  if (under(range.hi)) return null;
  if (!under(range.lo)) return 0;
  let lo = range.lo;
  let hi = range.hi;
  // To within 0.5%: the model is not more precise than that.
  while (hi - lo > Math.max(100, lo * 0.005)) {
    const mid = Math.floor((lo + hi) / 2);
    if (under(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** A copy of `p` with the PostToConnection round trip at `p50Ms` (p99 three times it). */
export function withRoundTrip(p: AwsParameters, p50Ms: number): AwsParameters {
  return { ...p, postToConnectionRoundTrip: { kind: 'lognormal', p50Ms, p99Ms: 3 * p50Ms } };
}
