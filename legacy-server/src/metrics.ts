/**
 * The droplet's metrics, with the names and meanings of the shared catalog (`METRICS` in
 * `@reactometer/shared`, the same the Lambda functions record), kept by prom-client and served in
 * Prometheus text format on a listener of their own (`METRICS_PORT`, loopback by default), so the
 * public port never exposes them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { METRICS, type SlackEventOutcome } from '@reactometer/shared';

/** FanOutDuration buckets (ms): one update to a handful of dashboards up to tens of thousands. */
const FAN_OUT_BUCKETS_MS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

const help = (m: { meaning: string; unit: string }): string => `${m.meaning} Unit: ${m.unit}.`;

/** What the edge records; every method is cheap enough to call per event or per broadcast. */
export class DropletMetrics {
  readonly registry = new Registry();
  private readonly connectionsOpened: Counter;
  private readonly connectionsClosed: Counter;
  private readonly messagesDelivered: Counter;
  private readonly goneConnections: Counter;
  private readonly slowConnectionsDropped: Counter;
  private readonly fanOutDuration: Histogram;
  private readonly countChanges: Counter;
  private readonly publishFailures: Counter;
  private readonly slackEvents: Counter<'outcome'>;

  /** `openConnections` is read at scrape time (the broadcaster's size), not tracked twice. */
  constructor(openConnections: () => number = () => 0) {
    const registers = [this.registry];
    const counter = (m: (typeof METRICS)[keyof typeof METRICS]): Counter =>
      new Counter({ name: m.name, help: help(m), registers });
    this.connectionsOpened = counter(METRICS.connectionsOpened);
    this.connectionsClosed = counter(METRICS.connectionsClosed);
    this.messagesDelivered = counter(METRICS.messagesDelivered);
    this.goneConnections = counter(METRICS.goneConnections);
    this.slowConnectionsDropped = counter(METRICS.slowConnectionsDropped);
    this.countChanges = counter(METRICS.countChanges);
    this.publishFailures = counter(METRICS.publishFailures);
    this.slackEvents = new Counter({
      name: METRICS.slackEvents.name,
      help: help(METRICS.slackEvents),
      labelNames: ['outcome'] as const,
      registers,
    });
    new Gauge({
      name: METRICS.connections.name,
      help: help(METRICS.connections),
      registers,
      collect() {
        this.set(openConnections());
      },
    });
    this.fanOutDuration = new Histogram({
      name: METRICS.fanOutDuration.name,
      help: help(METRICS.fanOutDuration),
      buckets: FAN_OUT_BUCKETS_MS,
      registers,
    });
  }

  connectionOpened(): void {
    this.connectionsOpened.inc();
  }

  connectionClosed(): void {
    this.connectionsClosed.inc();
  }

  /** One broadcast: how many sockets got the frame and how long the loop took. */
  broadcast(delivered: number, durationMs: number): void {
    this.messagesDelivered.inc(delivered);
    this.fanOutDuration.observe(durationMs);
  }

  goneConnection(): void {
    this.goneConnections.inc();
  }

  slowConnectionDropped(): void {
    this.slowConnectionsDropped.inc();
  }

  /** One answered Slack request; `changed` also says whether its publish failed. */
  /** A count change applied by the inbox worker (after the request was answered `appended`). */
  countChanged(publishFailed: boolean): void {
    this.countChanges.inc();
    if (publishFailed) this.publishFailures.inc();
  }

  slackEvent(outcome: SlackEventOutcome, publishFailed = false): void {
    this.slackEvents.inc({ outcome });
    if (outcome === 'changed') {
      this.countChanges.inc();
      if (publishFailed) this.publishFailures.inc();
    }
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** The metrics listener: `GET /metrics` only. */
export interface MetricsListener {
  start(): Promise<AddressInfo>;
  stop(): Promise<void>;
}

export function createMetricsListener(
  metrics: DropletMetrics,
  options: { readonly port: number; readonly host: string },
): MetricsListener {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    metrics.render().then(
      ({ contentType, body }) => res.writeHead(200, { 'Content-Type': contentType }).end(body),
      () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  return {
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    stop: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
