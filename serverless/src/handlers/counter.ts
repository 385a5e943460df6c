/**
 * The serverless inbox's worker: invoked by the SQS event source mapping with batches of the
 * inbox FIFO queue (`functionResponseType: ReportBatchItemFailures`), applies each event through
 * the core and reports the ones it could not apply, which SQS redelivers after the visibility
 * timeout; a DynamoDB outage only delays counting. After `maxReceiveCount` receives a message
 * moves to the dead-letter queue (infra/inbox.yml).
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { CountingDeps } from '@reactometer/shared';
import { createComposition } from '../composition.js';
import { applySqsBatch } from '../inbox/apply-sqs-batch.js';
import { METRIC, MetricUnit, type Logger, type Metrics } from '../observability.js';

export interface CounterParts {
  readonly deps: CountingDeps;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function createCounterHandler({
  deps,
  logger,
  metrics,
}: CounterParts): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    try {
      const { batchItemFailures, applied } = await applySqsBatch(event.Records, deps, logger);
      const changed = applied.filter((o) => o.kind === 'changed').length;
      if (changed > 0) metrics.addMetric(METRIC.countChanges, MetricUnit.Count, changed);
      return { batchItemFailures };
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

// Module scope: built once per execution environment, reused by warm invocations.
const app = createComposition(process.env);

export const handler = createCounterHandler({
  deps: app.countingDeps(),
  logger: app.logger(),
  metrics: app.metrics(),
});
