/**
 * One worker of a sharded fan-out: invoked (RequestResponse) by the fan-out coordinator with a
 * segment of the connections table and its slice of the throttle, it delivers the coordinator's
 * frame to that segment and answers with what happened. It holds no lease and touches no gate:
 * the coordinator does, for the whole flush.
 */
import type { Context } from 'aws-lambda';
import { createComposition } from '../composition.js';
import { createFanOutComposition } from '../fanout/fanout-composition.js';
import { runSegment, segmentEventSchema, type SegmentSummary } from '../fanout/segment.js';
import { errorText } from '../observability.js';

const app = createComposition(process.env);
const fan = createFanOutComposition(app);
// Built now: a missing endpoint or table fails the cold start, naming the variable.
const segmentDeps = fan.segmentDeps();
const logger = app.logger();

export async function handler(event: unknown, context?: Context): Promise<SegmentSummary> {
  const parsed = segmentEventSchema.safeParse(event);
  if (!parsed.success) {
    // Only the coordinator invokes this function: a bad event is a bug, not bad input.
    logger.error('fan-out worker got an event it does not understand', {
      awsRequestId: context?.awsRequestId,
      event: JSON.stringify(event).slice(0, 500),
    });
    throw new Error(`not a fan-out segment: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  const segment = parsed.data;
  try {
    const summary = await runSegment(segment, segmentDeps);
    logger.info('fan-out segment', {
      awsRequestId: context?.awsRequestId,
      flushId: segment.flushId,
      segment: segment.segment,
      ...summary,
    });
    return summary;
  } catch (err) {
    logger.error('fan-out segment failed', {
      awsRequestId: context?.awsRequestId,
      flushId: segment.flushId,
      segment: segment.segment,
      error: errorText(err),
      cause: err,
    });
    throw err;
  }
}
