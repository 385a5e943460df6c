/**
 * The fan-out: subscribed to the count-changes topic, it forwards each `update` message to every
 * live connection through the API Gateway management API (the algorithm is the core's `fanOut`:
 * bounded concurrency, a 410 removes that connection id only, throttles back off).
 *
 * Messages carry absolute counts and versions, so SNS's at-least-once delivery and Lambda's retry
 * of a failed invocation are harmless: a repeated update changes nothing on a dashboard.
 */
import type { Context, SNSEvent } from 'aws-lambda';
import { fanOut, serverMessageSchema, systemClock, type FanOutReport } from '@reactometer/shared';
import { createComposition } from '../composition.js';
import { requireManagementEndpoint } from '../config.js';
import { METRIC, MetricUnit, errorText } from '../observability.js';

const app = createComposition(process.env);
const registry = app.registry();
const senderConfig = app.senderConfig();
const sender = app.sender(requireManagementEndpoint(senderConfig));
const logger = app.logger();
const metrics = app.metrics();

/** The frame to forward, serialised once; null for a message that is not an `update`. */
export function parseUpdate(message: string): string | null {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return null;
  }
  const parsed = serverMessageSchema.safeParse(json);
  if (!parsed.success || parsed.data.type !== 'update') return null;
  return JSON.stringify(parsed.data);
}

export async function handler(
  event: SNSEvent,
  context?: Context,
): Promise<{ readonly reports: FanOutReport[] }> {
  const reports: FanOutReport[] = [];
  try {
    for (const record of event.Records ?? []) {
      const data = parseUpdate(record.Sns?.Message ?? '');
      if (data === null) {
        // Retrying cannot fix a malformed message; drop it loudly instead of failing the batch.
        logger.error('fan-out skipped a message that is not an update', {
          messageId: record.Sns?.MessageId,
          message: String(record.Sns?.Message ?? '').slice(0, 500),
        });
        continue;
      }
      // A store outage throws out of here: Lambda retries the async invocation, which is safe.
      const report = await fanOut(data, {
        registry,
        sender,
        clock: systemClock,
        concurrency: senderConfig.concurrency,
        maxAttempts: senderConfig.maxAttempts,
        baseBackoffMs: senderConfig.baseBackoffMs,
      });
      reports.push(report);
      metrics.addMetric(METRIC.connections, MetricUnit.Count, report.attempted);
      metrics.addMetric(METRIC.messagesDelivered, MetricUnit.Count, report.delivered);
      metrics.addMetric(METRIC.goneConnections, MetricUnit.Count, report.gone.length);
      metrics.addMetric(METRIC.failedDeliveries, MetricUnit.Count, report.failed.length);
      metrics.addMetric(METRIC.throttledSends, MetricUnit.Count, report.throttled);
      metrics.addMetric(METRIC.fanOutDuration, MetricUnit.Milliseconds, report.durationMs);
      const line = {
        awsRequestId: context?.awsRequestId,
        messageId: record.Sns?.MessageId,
        attempted: report.attempted,
        delivered: report.delivered,
        gone: report.gone.length,
        failed: report.failed.length,
        throttled: report.throttled,
        durationMs: report.durationMs,
      };
      if (report.failed.length > 0)
        logger.warn('fan-out', { ...line, failedIds: report.failed.slice(0, 20) });
      else logger.info('fan-out', line);
    }
    return { reports };
  } catch (err) {
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
