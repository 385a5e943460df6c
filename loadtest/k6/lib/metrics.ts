/**
 * The custom metrics, with exactly the names scenarios.json declares (the Node runner writes the
 * same names, so the report reads either summary). Created at module load: k6 only allows new
 * metrics in the init context.
 */
import { Counter, Gauge, Trend } from 'k6/metrics';

/** Time from constructing a WebSocket to its open event. */
export const wsConnectMs = new Trend('ws_connect_ms', true);
/** WebSocket connects refused (503), errored or timed out. */
export const wsConnectFailed = new Counter('ws_connect_failed');
/** WebSocket connections held at the end of a step (by the one VU that holds them all). */
export const wsConnectionsOpen = new Gauge('ws_connections_open');
/** Time from the event POST being sent to an update's receipt, per client. */
export const deliveryMs = new Trend('delivery_ms', true);
/** (client, update) pairs never received within the wait. */
export const deliveriesMissed = new Counter('deliveries_missed');
/** Updates a client received more than once (same emoji, same version). */
export const deliveriesDuplicate = new Counter('deliveries_duplicate');
/** Slack-event POST acknowledgement latency (from the scheduled send, open loop). */
export const ackMs = new Trend('ack_ms', true);
/** Slack-event POSTs answered non-2xx or not at all. */
export const ackFailed = new Counter('ack_failed');

/** Trend statistics every summary carries (the report reads these keys). */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'];
