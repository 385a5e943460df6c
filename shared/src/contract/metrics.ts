/**
 * The metric catalog both deployments record: one name, one unit and one meaning per metric, so
 * that one dashboard or alert rule reads either deployment (Lambda: CloudWatch metrics written by
 * Powertools as EMF; droplet: Prometheus text from prom-client on its metrics listener).
 * `docs/metrics.md` is this table in prose; a test checks that each deployment records exactly
 * the names listed for it here.
 */
import type { SlackResult } from '../slack/handle-slack-request.js';
import type { EdgeAnswer } from './edge-answer.js';

export type MetricDeployment = 'droplet' | 'serverless';

/**
 * How a metric is kept: `counter` only grows (Lambda: a Count per invocation, summed by
 * CloudWatch), `gauge` is a level (Lambda: the value one fan-out saw), `histogram` a
 * distribution (Lambda: one value per invocation; Prometheus: buckets).
 */
export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  /** The name, identical on both deployments (CamelCase: CloudWatch's style, valid in Prometheus). */
  readonly name: string;
  readonly unit: 'Count' | 'Milliseconds';
  readonly kind: MetricKind;
  readonly meaning: string;
  readonly deployments: readonly MetricDeployment[];
  /** Dimensions (CloudWatch) / labels (Prometheus), beyond the service name. */
  readonly labels?: readonly string[];
}

function metric(spec: MetricSpec): MetricSpec {
  return spec;
}

const BOTH: readonly MetricDeployment[] = ['droplet', 'serverless'];

/** Every metric, keyed by the name code uses for it. */
export const METRICS = {
  connectionsOpened: metric({
    name: 'ConnectionsOpened',
    unit: 'Count',
    kind: 'counter',
    meaning: 'Dashboard WebSocket connections accepted.',
    deployments: BOTH,
  }),
  connectionsClosed: metric({
    name: 'ConnectionsClosed',
    unit: 'Count',
    kind: 'counter',
    meaning: 'Dashboard WebSocket connections ended, for whatever reason.',
    deployments: BOTH,
  }),
  connections: metric({
    name: 'Connections',
    unit: 'Count',
    kind: 'gauge',
    meaning:
      'Connections an update is sent to: open sockets (droplet, now); the connections one fan-out tried to reach (Lambda).',
    deployments: BOTH,
  }),
  messagesDelivered: metric({
    name: 'MessagesDelivered',
    unit: 'Count',
    kind: 'counter',
    meaning:
      '`update` messages handed to a connection: written to its socket (droplet), accepted by PostToConnection (Lambda).',
    deployments: BOTH,
  }),
  goneConnections: metric({
    name: 'GoneConnections',
    unit: 'Count',
    kind: 'counter',
    meaning:
      'Dead connections found and removed: missed a heartbeat (droplet), 410 GoneException (Lambda).',
    deployments: BOTH,
  }),
  slowConnectionsDropped: metric({
    name: 'SlowConnectionsDropped',
    unit: 'Count',
    kind: 'counter',
    meaning:
      'Connections dropped because their unsent data passed the cap (droplet only: API Gateway buffers for the client).',
    deployments: ['droplet'],
  }),
  failedDeliveries: metric({
    name: 'FailedDeliveries',
    unit: 'Count',
    kind: 'counter',
    meaning: 'PostToConnection calls that failed for a reason other than 410 or a throttle.',
    deployments: ['serverless'],
  }),
  throttledSends: metric({
    name: 'ThrottledSends',
    unit: 'Count',
    kind: 'counter',
    meaning: 'PostToConnection calls answered 429 (the account throttle) and retried.',
    deployments: ['serverless'],
  }),
  fanOutDuration: metric({
    name: 'FanOutDuration',
    unit: 'Milliseconds',
    kind: 'histogram',
    meaning:
      'Time to hand one update to every connection: the broadcast loop (droplet), one fan-out invocation (Lambda).',
    deployments: BOTH,
  }),
  countChanges: metric({
    name: 'CountChanges',
    unit: 'Count',
    kind: 'counter',
    meaning: 'Slack events that changed a count (stored; then published).',
    deployments: BOTH,
  }),
  publishFailures: metric({
    name: 'PublishFailures',
    unit: 'Count',
    kind: 'counter',
    meaning: 'Count changes stored but not published to the dashboards (they resync later).',
    deployments: BOTH,
  }),
  slackEvents: metric({
    name: 'SlackEvents',
    unit: 'Count',
    kind: 'counter',
    meaning:
      'Requests to POST /slack/events answered by the core, by outcome (`SLACK_EVENT_OUTCOMES`).',
    deployments: BOTH,
    labels: ['outcome'],
  }),
  countDrift: metric({
    name: 'CountDrift',
    unit: 'Count',
    kind: 'counter',
    meaning:
      'Counts the scheduled reconcile found wrong and repaired (droplet: the reconcile command prints its report instead).',
    deployments: ['serverless'],
  }),
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** The metric names one deployment records, sorted. */
export function metricNamesFor(deployment: MetricDeployment): string[] {
  return Object.values(METRICS)
    .filter((m: MetricSpec) => m.deployments.includes(deployment))
    .map((m) => m.name)
    .sort();
}

/** The values of `SlackEvents`' `outcome` label: few and fixed, so a label stays cheap. */
export const SLACK_EVENT_OUTCOMES = [
  /** Stored in the durable inbox (applied later by its worker). */
  'appended',
  /** Already in the inbox: a retry of an event it holds. */
  'duplicate',
  'changed',
  'unchanged',
  'ignored',
  'url_verification',
  /** 4xx: bad signature, bad body, too large. */
  'rejected',
  /** 5xx: store unavailable or a fault of ours (Slack retries). */
  'failed',
] as const;

export type SlackEventOutcome = (typeof SLACK_EVENT_OUTCOMES)[number];

/** The `outcome` label of one answered Slack request (both edges call this). */
export function slackEventOutcome(
  answer: Pick<EdgeAnswer, 'status'>,
  result?: SlackResult,
): SlackEventOutcome {
  if (result === undefined) return answer.status >= 500 ? 'failed' : 'rejected';
  if (result.kind === 'challenge') return 'url_verification';
  if (result.kind === 'ignored') return 'ignored';
  if (result.kind === 'queued') return result.append;
  return result.outcome.kind;
}
