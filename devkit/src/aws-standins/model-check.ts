/**
 * The check of the fan-out model against the @connections STAND-IN: run the real sharded fan-out
 * (fan-out-rig.ts) with an injected latency and throttle, then ask the model (the same
 * simulation `npm run model` uses for AWS) for the same flush with THIS machine's parameters, all
 * measured in the same run: the Scan page time, the CPU per post of a flush, and the share of a
 * core this process gets. The model passes when its time to finish is within ±25% of the
 * measured one. Used by `npm run bench -w serverless` and by loadtest's integration test.
 */
import type { LatencyDistribution } from '../measure/distributions.js';
import { percentile, simulateFanOut } from '../measure/fan-out-simulation.js';
import type { FanOutRig } from './fan-out-rig.js';
import type { RateLimit } from './connections-standin.js';

/** What the check injects by default: a 20 ms round trip, and a throttle the limiter must meet. */
export const MODEL_CHECK_DEFAULTS = {
  latency: { kind: 'lognormal', p50Ms: 20, p99Ms: 60 } as LatencyDistribution,
  // Small enough that this machine's two shared cores are not what limits the flush.
  throttle: { ratePerSecond: 2_000, burst: 1_000 } as RateLimit,
  share: 0.95,
  workers: 2,
  concurrency: 64,
  tolerance: 0.25,
} as const;

export interface ModelCheckOptions {
  readonly connections: number;
  readonly workers?: number;
  readonly latency?: LatencyDistribution;
  readonly throttle?: RateLimit;
  readonly share?: number;
  readonly concurrency?: number;
  readonly pageSize?: number;
}

export interface ModelCheck {
  readonly connections: number;
  readonly workers: number;
  readonly measured: { readonly finishMs: number; readonly p50Ms: number; readonly p99Ms: number };
  readonly modelled: { readonly finishMs: number; readonly p50Ms: number; readonly p99Ms: number };
  /** modelled / measured - 1. */
  readonly finishError: number;
  readonly withinTolerance: boolean;
  /** The machine parameters the model was given (measured in this run). */
  readonly parameters: {
    readonly scanMsPerPage: number;
    readonly cpuUsPerPost: number;
    readonly cpuShare: number;
  };
  readonly throttled429: number;
  readonly deliveredTwice: number;
  readonly neverDelivered: number;
}

/**
 * Runs one check: `rig` must hold `connections` records (see `FanOutRig.populate`). Sets the
 * stand-in's latency and throttle to the injected ones and leaves them so.
 */
export async function checkModelAgainstStandin(
  rig: FanOutRig,
  options: ModelCheckOptions,
): Promise<ModelCheck> {
  const d = MODEL_CHECK_DEFAULTS;
  const workers = options.workers ?? d.workers;
  const latency = options.latency ?? d.latency;
  const throttle = options.throttle ?? d.throttle;
  const share = options.share ?? d.share;
  const concurrency = options.concurrency ?? d.concurrency;

  // The share of a core this process gets now: a sender round with nothing to wait for.
  await rig.setRateLimit(null);
  await rig.standin.setLatency({ kind: 'fixed', ms: 0 });
  const calibration = await rig.senderRound('lean', 4_000, concurrency);
  const scan = await rig.measureScan();

  await rig.standin.setLatency(latency);
  await rig.setRateLimit(throttle);
  // One flush unmeasured: the fan-out's code paths warm (JIT) as a Lambda's are after its first.
  await rig.flush({ workers, share, concurrency });
  const run = await rig.flush({ workers, share, concurrency });
  const cpuUsPerPost = (run.cpuMs * 1000) / options.connections;
  const cpuShare = Math.min(1, Math.max(0.05, calibration.cpuShare));

  const model = simulateFanOut({
    connections: options.connections,
    workers,
    concurrency,
    limits: {
      ratePerSecond: (share * throttle.ratePerSecond) / workers,
      burst: Math.max(1, Math.floor((share * throttle.burst) / workers)),
    },
    postRoundTrip: latency,
    // The workers run in this one process here (on AWS each has its own): one CPU, of which
    // this process gets `cpuShare`.
    cpuPerPostMs: cpuUsPerPost / 1000 / cpuShare,
    cpus: 1,
    pageSize: options.pageSize ?? 250,
    pageRoundTrip: { kind: 'fixed', ms: scan.msPerPage },
  });
  const finishError = model.finishMs / run.finishMs - 1;
  return {
    connections: options.connections,
    workers,
    measured: {
      finishMs: run.finishMs,
      p50Ms: percentile(run.deliveryMs, 50),
      p99Ms: percentile(run.deliveryMs, 99),
    },
    modelled: {
      finishMs: model.finishMs,
      p50Ms: percentile(model.deliveries, 50),
      p99Ms: percentile(model.deliveries, 99),
    },
    finishError,
    withinTolerance: Math.abs(finishError) <= d.tolerance,
    parameters: { scanMsPerPage: scan.msPerPage, cpuUsPerPost, cpuShare },
    throttled429: run.standin.throttled,
    deliveredTwice: run.standin.deliveredTwice,
    neverDelivered: run.standin.neverDelivered,
  };
}
