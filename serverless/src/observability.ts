/**
 * Structured logs and CloudWatch metrics (embedded metric format) with Powertools for AWS Lambda.
 * EMF lines are plain stdout JSON that CloudWatch turns into metrics without a PutMetricData
 * call, so recording a metric costs no latency and needs no IAM permission.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS } from '@reactometer/shared';
import type { RuntimeConfig } from './config.js';

export { Logger, Metrics, MetricUnit };

export function createLogger(config: RuntimeConfig): Logger {
  return new Logger({ serviceName: config.serviceName, logLevel: config.logLevel });
}

export function createMetrics(config: RuntimeConfig): Metrics {
  return new Metrics({ namespace: config.metricsNamespace, serviceName: config.serviceName });
}

/**
 * The metric names, from the catalog both deployments share (`METRICS` in `@reactometer/shared`,
 * listed in docs/metrics.md), so that dashboards and alarms read the droplet's Prometheus metrics
 * and these CloudWatch ones by the same names.
 */
export const METRIC = {
  /** Live connections a fan-out tried to reach. */
  connections: METRICS.connections.name,
  messagesDelivered: METRICS.messagesDelivered.name,
  goneConnections: METRICS.goneConnections.name,
  failedDeliveries: METRICS.failedDeliveries.name,
  throttledSends: METRICS.throttledSends.name,
  fanOutDuration: METRICS.fanOutDuration.name,
  connectionsOpened: METRICS.connectionsOpened.name,
  connectionsClosed: METRICS.connectionsClosed.name,
  countChanges: METRICS.countChanges.name,
  publishFailures: METRICS.publishFailures.name,
  /** With an `outcome` dimension (`slackEventOutcome`). */
  slackEvents: METRICS.slackEvents.name,
  countDrift: METRICS.countDrift.name,
} as const;

/** The core's, so that every handler writes errors in log fields as the Slack edge does. */
export { errorText } from '@reactometer/shared';
