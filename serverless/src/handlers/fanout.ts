/**
 * The fan-out coordinator: subscribed to the count-changes topic. Each count change marks its
 * emoji dirty on the fan-out gate and tries to take the gate's lease; whoever holds it flushes the
 * latest counts of every emoji changed since the last flush to every dashboard, at most once per
 * window (`coalesce` in the core has the protocol). A flush is sharded above a threshold: this
 * invocation delivers segment 0 and invokes `fanoutWorker` for the others, each within its slice
 * of the account's API Gateway throttle.
 *
 * With FANOUT_WINDOW_MS=0 coalescing is off: each message is fanned out on its own, as it came.
 * Messages carry absolute counts and versions either way, so SNS's at-least-once delivery and
 * Lambda's retry of a failed invocation are harmless.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SNSEvent } from 'aws-lambda';
import {
  coalesce,
  serverMessageSchema,
  systemClock,
  type CoalesceReport,
} from '@reactometer/shared';
import { createComposition } from '../composition.js';
import { createFanOutComposition } from '../fanout/fanout-composition.js';
import { runSegment, type SegmentEvent, type SegmentSummary } from '../fanout/segment.js';
import { createShardedFlush, type FlushSummary } from '../fanout/sharded-flush.js';
import { METRIC, MetricUnit, errorText } from '../observability.js';

const app = createComposition(process.env);
const fan = createFanOutComposition(app);
const fanOutConfig = fan.config();
// Built now: a missing endpoint or table fails the cold start, naming the variable.
const segmentDeps = fan.segmentDeps();
const logger = app.logger();
const metrics = app.metrics();

/** What the coordinator invokes itself with to hand a pending flush over (see `coalesce`). */
export const RESUME_EVENT = { kind: 'fanout-resume' } as const;
type ResumeEvent = typeof RESUME_EVENT;

/** Time kept back from the Lambda timeout: a flush must finish and the gate be released. */
const SAFETY_MS = 10_000;

/** An `update` message: its frame serialised once, and its emoji; null for anything else. */
export function parseUpdate(
  message: string,
): { readonly frame: string; readonly emojis: string[] } | null {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return null;
  }
  const parsed = serverMessageSchema.safeParse(json);
  if (!parsed.success || parsed.data.type !== 'update') return null;
  return {
    frame: JSON.stringify(parsed.data),
    emojis: parsed.data.reactions.map((r) => r.emoji),
  };
}

const runHere = (event: SegmentEvent): Promise<SegmentSummary> => runSegment(event, segmentDeps);

function record(summary: FlushSummary, extra: Record<string, unknown>): void {
  metrics.addMetric(METRIC.connections, MetricUnit.Count, summary.attempted);
  metrics.addMetric(METRIC.messagesDelivered, MetricUnit.Count, summary.delivered);
  metrics.addMetric(METRIC.goneConnections, MetricUnit.Count, summary.gone);
  metrics.addMetric(METRIC.failedDeliveries, MetricUnit.Count, summary.failed);
  metrics.addMetric(METRIC.throttledSends, MetricUnit.Count, summary.throttled);
  metrics.addMetric(METRIC.fanOutDuration, MetricUnit.Milliseconds, summary.durationMs);
  const line = {
    ...extra,
    flushId: summary.flushId,
    workers: summary.workers,
    attempted: summary.attempted,
    delivered: summary.delivered,
    gone: summary.gone,
    failed: summary.failed,
    throttled: summary.throttled,
    segmentsFailed: summary.segmentsFailed,
    durationMs: summary.durationMs,
  };
  if (summary.failed > 0 || summary.segmentsFailed > 0)
    logger.warn('fan-out', { ...line, failedIds: summary.failedIds });
  else logger.info('fan-out', line);
}

export interface FanOutResult {
  readonly reports: FlushSummary[];
  /** Absent with coalescing off. */
  readonly coalesce?: CoalesceReport;
}

function isResume(event: SNSEvent | ResumeEvent): event is ResumeEvent {
  return (event as ResumeEvent).kind === RESUME_EVENT.kind;
}

export async function handler(
  event: SNSEvent | ResumeEvent,
  context?: Context,
): Promise<FanOutResult> {
  const reports: FlushSummary[] = [];
  const remainingMs = () => context?.getRemainingTimeInMillis?.() ?? 300_000;
  const flush = createShardedFlush({
    shards: fanOutConfig.shards,
    throttle: fanOutConfig.throttle,
    runHere,
    runElsewhere: async (segment) =>
      (await fan
        .invoker()
        .invoke(
          fanOutConfig.workerFunction,
          segment,
          Math.max(1_000, remainingMs() - SAFETY_MS),
        )) as SegmentSummary,
    onSegmentFailed: (segment, err) =>
      logger.error('fan-out worker failed', {
        flushId: segment.flushId,
        segment: segment.segment,
        error: errorText(err),
      }),
  });
  try {
    const updates = isResume(event)
      ? []
      : (event.Records ?? []).flatMap((rec) => {
          const update = parseUpdate(rec.Sns?.Message ?? '');
          if (update === null) {
            // Retrying cannot fix a malformed message; drop it loudly instead of failing the batch.
            logger.error('fan-out skipped a message that is not an update', {
              messageId: rec.Sns?.MessageId,
              message: String(rec.Sns?.Message ?? '').slice(0, 500),
            });
            return [];
          }
          return [update];
        });

    if (fanOutConfig.windowMs === 0) {
      for (const update of updates) {
        // No gate, so no count of the last fan-out to size this one by: FANOUT_WORKERS or one.
        const summary = await flush(update.frame, null);
        reports.push(summary);
        record(summary, { awsRequestId: context?.awsRequestId });
      }
      return { reports };
    }

    let lastFlushMs = 0;
    const report = await coalesce(
      updates.flatMap((u) => u.emojis),
      {
        gate: fan.gate(),
        counts: fan.countsReader(),
        clock: systemClock,
        holder: context?.awsRequestId ?? randomUUID(),
        windowMs: fanOutConfig.windowMs,
        leaseMs: fanOutConfig.leaseMs,
        flush: async (frame, previousConnections) => {
          const summary = await flush(frame, previousConnections);
          reports.push(summary);
          record(summary, { awsRequestId: context?.awsRequestId });
          return { connections: summary.connections };
        },
        onFlush: (f) => (lastFlushMs = f.endedAt - f.startedAt),
        // Hold on only while another window and flush like the last one fit in the time left.
        mayContinue: () => remainingMs() > 2 * lastFlushMs + fanOutConfig.windowMs + SAFETY_MS,
        handOff: () =>
          fan.invoker().invokeAsync(context?.functionName ?? 'fanout', RESUME_EVENT, 5_000),
      },
    );
    return { reports, coalesce: report };
  } catch (err) {
    // A store outage throws out of here: Lambda retries the async invocation, which is safe.
    logger.error('fan-out failed', {
      awsRequestId: context?.awsRequestId,
      error: errorText(err),
      cause: err,
    });
    throw err;
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
