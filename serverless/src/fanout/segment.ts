/**
 * One worker's part of a fan-out: the event the coordinator sends each worker, and running it. The
 * coordinator runs segment 0 itself and invokes the `fanoutWorker` function for the others; both
 * run exactly this code.
 */
import { z } from 'zod';
import {
  fanOut,
  TokenBucket,
  type Clock,
  type ConnectionRegistry,
  type ConnectionSender,
  type FanOutReport,
} from '@reactometer/shared';

export const segmentEventSchema = z.object({
  kind: z.literal('fanout-segment'),
  /** The `update` frame, serialised once by the coordinator. */
  frame: z.string().min(1),
  segment: z.object({
    index: z.number().int().nonnegative(),
    total: z.number().int().positive(),
  }),
  /** This worker's token bucket: its share of the fan-out's share of the throttle. */
  limits: z.object({ ratePerSecond: z.number().positive(), burst: z.number().positive() }),
  /** Ties the workers' log lines to their flush. */
  flushId: z.string().min(1),
});
export type SegmentEvent = z.infer<typeof segmentEventSchema>;

/** What a worker reports back: counts, and at most a few failed ids for the log. */
export interface SegmentSummary {
  readonly attempted: number;
  readonly delivered: number;
  readonly gone: number;
  readonly failed: number;
  readonly failedIds: readonly string[];
  readonly throttled: number;
  readonly duplicatesSkipped: number;
  readonly durationMs: number;
}

export function summarise(report: FanOutReport): SegmentSummary {
  return {
    attempted: report.attempted,
    delivered: report.delivered,
    gone: report.gone.length,
    failed: report.failed.length,
    failedIds: report.failed.slice(0, 20),
    throttled: report.throttled,
    duplicatesSkipped: report.duplicatesSkipped,
    durationMs: report.durationMs,
  };
}

export interface SegmentDeps {
  readonly registry: ConnectionRegistry;
  readonly sender: ConnectionSender;
  readonly clock: Clock;
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly baseBackoffMs: number;
}

/** Delivers `event.frame` to the connections of `event.segment`, within `event.limits`. */
export async function runSegment(event: SegmentEvent, deps: SegmentDeps): Promise<SegmentSummary> {
  const limiter = new TokenBucket({
    ratePerSecond: event.limits.ratePerSecond,
    burst: event.limits.burst,
    clock: deps.clock,
  });
  const report = await fanOut(event.frame, {
    registry: deps.registry,
    sender: deps.sender,
    clock: deps.clock,
    concurrency: deps.concurrency,
    maxAttempts: deps.maxAttempts,
    baseBackoffMs: deps.baseBackoffMs,
    limiter,
    ...(event.segment.total > 1 ? { segment: event.segment } : {}),
  });
  return summarise(report);
}
