/**
 * The serverless inbox's worker: one SQS FIFO batch, applied through the core
 * (`applyReactionEvent`) in the order SQS hands it over. A record that fails is reported in
 * `batchItemFailures` (`ReportBatchItemFailures`), so that SQS redelivers only it, after the
 * visibility timeout; every later record of the same message group (the same reaction) is
 * reported too, without being tried, so that a reaction's events are never applied out of order.
 * Records of other groups go on. A record that cannot be decoded is a bug, not a fault: it is
 * reported as well, and after `maxReceiveCount` receives SQS moves it to the dead-letter queue.
 */
import {
  appliedOutcome,
  applyReactionEvent,
  decodeInboxEvent,
  errorText,
  isReactometerError,
  type ApplyOutcome,
  type CountingDeps,
} from '@reactometer/shared';

/** The fields of an SQS record the worker reads (aws-lambda's `SQSRecord` has them). */
export interface InboxRecord {
  readonly messageId: string;
  readonly body: string;
  readonly attributes: {
    readonly MessageGroupId?: string | undefined;
    readonly ApproximateReceiveCount?: string | undefined;
  };
}

export interface BatchLogger {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

export interface BatchResult {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
  readonly applied: readonly ApplyOutcome[];
}

export async function applySqsBatch(
  records: readonly InboxRecord[],
  deps: CountingDeps,
  logger?: BatchLogger,
): Promise<BatchResult> {
  const failedGroups = new Set<string>();
  const batchItemFailures: { itemIdentifier: string }[] = [];
  const applied: ApplyOutcome[] = [];
  for (const record of records) {
    const group = record.attributes.MessageGroupId ?? record.messageId;
    if (failedGroups.has(group)) {
      batchItemFailures.push({ itemIdentifier: record.messageId });
      continue;
    }
    try {
      const event = decodeInboxEvent(record.body);
      const outcome = await applyReactionEvent(event, deps);
      const { level, fields } = appliedOutcome(outcome);
      logger?.[level]('inbox event applied', { eventId: event.eventId, ...fields });
      applied.push(outcome);
      // Counted, but the pending marker is still set: the redelivery (after the lease) settles it
      // with an exact recount, so the message stays in the queue until then.
      if (outcome.kind === 'changed' && outcome.settleError !== undefined) {
        failedGroups.add(group);
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    } catch (err) {
      failedGroups.add(group);
      batchItemFailures.push({ itemIdentifier: record.messageId });
      const code = isReactometerError(err) ? err.code : 'internal_error';
      logger?.[code === 'internal_error' ? 'error' : 'warn'](
        'inbox event not applied; redelivered later',
        {
          messageId: record.messageId,
          receiveCount: record.attributes.ApproximateReceiveCount,
          errorCode: code,
          error: errorText(err),
        },
      );
    }
  }
  return { batchItemFailures, applied };
}
