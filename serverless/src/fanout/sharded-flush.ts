/**
 * One flush of the coalesced fan-out: decides how many workers deliver it (from the connections
 * the previous flush reached), gives each its slice of the throttle, runs segment 0 here and the
 * others in parallel `fanoutWorker` invocations, and adds up what they report.
 */
import { randomUUID } from 'node:crypto';
import {
  segmentsOf,
  workerLimits,
  workersFor,
  type ShardPlanOptions,
  type ThrottleShare,
} from '@reactometer/shared';
import type { SegmentEvent, SegmentSummary } from './segment.js';

export interface FlushSummary extends SegmentSummary {
  readonly flushId: string;
  readonly workers: number;
  /** Connections this flush covered (a failed segment counted as an average one): sizes the next. */
  readonly connections: number;
  /** Worker invocations that failed (their connections may have got the update or not). */
  readonly segmentsFailed: number;
}

export interface ShardedFlushDeps {
  readonly shards: ShardPlanOptions;
  readonly throttle: ThrottleShare;
  /** Runs a segment in this invocation. */
  readonly runHere: (event: SegmentEvent) => Promise<SegmentSummary>;
  /** Runs a segment in a worker invocation and resolves with its summary. */
  readonly runElsewhere: (event: SegmentEvent) => Promise<SegmentSummary>;
  readonly onSegmentFailed?: (event: SegmentEvent, err: unknown) => void;
}

export function createShardedFlush(
  deps: ShardedFlushDeps,
): (frame: string, previousConnections: number | null) => Promise<FlushSummary> {
  return async (frame, previousConnections) => {
    const workers = workersFor(previousConnections, deps.shards);
    const limits = workerLimits(workers, deps.throttle);
    const flushId = randomUUID();
    const events: SegmentEvent[] = segmentsOf(workers).map((segment) => ({
      kind: 'fanout-segment',
      frame,
      segment,
      limits,
      flushId,
    }));
    // Segment 0 here: one invocation hop fewer, and the only one below the threshold.
    const [own, ...others] = await Promise.allSettled([
      deps.runHere(events[0]!),
      ...events.slice(1).map((e) => deps.runElsewhere(e)),
    ]);
    // A failure here (the store is down) fails the flush: the gate puts its emoji back. A failed
    // worker is not retried: it may have reached part of its segment, and a retry would send
    // those connections the update twice; the next flush carries the latest state anyway.
    if (own!.status === 'rejected') throw own.reason;
    const done: SegmentSummary[] = [own.value];
    let segmentsFailed = 0;
    others.forEach((result, i) => {
      if (result.status === 'fulfilled') done.push(result.value);
      else {
        segmentsFailed++;
        deps.onSegmentFailed?.(events[i + 1]!, result.reason);
      }
    });
    const sum = (f: (s: SegmentSummary) => number) => done.reduce((n, s) => n + f(s), 0);
    // Size the next flush on what exists: a failed segment counts as an average one.
    const attempted = sum((s) => s.attempted);
    return {
      flushId,
      workers,
      segmentsFailed,
      connections:
        segmentsFailed === 0 ? attempted : Math.round((attempted / done.length) * workers),
      attempted,
      delivered: sum((s) => s.delivered),
      gone: sum((s) => s.gone),
      failed: sum((s) => s.failed),
      failedIds: done.flatMap((s) => s.failedIds).slice(0, 20),
      throttled: sum((s) => s.throttled),
      duplicatesSkipped: sum((s) => s.duplicatesSkipped),
      durationMs: Math.max(...done.map((s) => s.durationMs)),
    };
  };
}
