/**
 * Structured logs and CloudWatch metrics (embedded metric format) with Powertools for AWS Lambda.
 * EMF lines are plain stdout JSON that CloudWatch turns into metrics without a PutMetricData
 * call, so recording a metric costs no latency and needs no IAM permission.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RuntimeConfig } from './config.js';

export { Logger, Metrics, MetricUnit };

export function createLogger(config: RuntimeConfig): Logger {
  return new Logger({ serviceName: config.serviceName, logLevel: config.logLevel });
}

export function createMetrics(config: RuntimeConfig): Metrics {
  return new Metrics({ namespace: config.metricsNamespace, serviceName: config.serviceName });
}

/** The metric names, in one place so that dashboards and alarms can rely on them. */
export const METRIC = {
  /** Live connections a fan-out tried to reach. */
  connections: 'Connections',
  messagesDelivered: 'MessagesDelivered',
  goneConnections: 'GoneConnections',
  failedDeliveries: 'FailedDeliveries',
  throttledSends: 'ThrottledSends',
  fanOutDuration: 'FanOutDuration',
  connectionsOpened: 'ConnectionsOpened',
  connectionsClosed: 'ConnectionsClosed',
  countChanges: 'CountChanges',
  publishFailures: 'PublishFailures',
  countDrift: 'CountDrift',
} as const;

/** The core's, so that every handler writes errors in log fields as the Slack edge does. */
export { errorText } from '@reactometer/shared';
