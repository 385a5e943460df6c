/**
 * The four scenarios as step-by-step runs against one target. `compare-cli.ts` interleaves the
 * steps of two targets (droplet step, serverless step, ...); `runScenario` plays one target alone.
 * Every step is bounded in time; a scenario stops stepping by itself when the target fails.
 */
import { performance } from 'node:perf_hooks';
import { SlackTraffic } from '../slack-traffic.js';
import { ClientPool } from './client-pool.js';
import { addEventBody, openLoop, stepPrefix, trafficBodies, wallNow } from './driver.js';
import { trendOf } from '@reactometer/devkit';
import { silentLog, ticker, type Log } from './progress.js';
import { establishedOnPort, snapshot, startSampler, waitForIdle } from '@reactometer/devkit';
import type {
  ChurnParams,
  ConnectionScalingParams,
  FanOutParams,
  IngestParams,
  ScenarioName,
} from './scenarios.js';
import { MetricSet, type StepResult, type Summary } from './summary.js';
import { assertLocalTarget, type Target } from './target.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};
const mib = (b: number): number => round(b / 1048576, 1);

/**
 * Waits (bounded by `boundMs`) until the target has no connection records left (serverless: a
 * big step's $disconnect and 410 clean-up run long after the clients have gone) and its
 * processes are idle, so that one step's leftovers are not measured as the next step's work.
 */
export async function settleTarget(target: Target, log: Log, boundMs = 120_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  if (target.connectionRecords) {
    let records = await target.connectionRecords().catch(() => 0);
    if (records > 0) log(`[${target.name}] settling: ${records} connection records left...`);
    // Records that stop going away are leaked, not pending: no point waiting for them.
    let lastDrop = Date.now();
    while (records > 0 && Date.now() < deadline && Date.now() - lastDrop < 6_000) {
      await sleep(2000);
      const now = await target.connectionRecords().catch(() => 0);
      if (now < records) lastDrop = Date.now();
      records = now;
    }
    if (records > 0)
      log(`[${target.name}] still ${records} connection records after ${boundMs / 1000} s`);
  }
  await waitForIdle(
    () => target.serverPids(),
    Math.max(5_000, Math.min(60_000, deadline - Date.now())),
  );
}

export interface RunOptions {
  readonly log?: Log;
  /** First 127.0.0.x source address of this target's client pool (pools must not overlap). */
  readonly firstAddress?: number;
  /** Most sockets per client worker process. */
  readonly perWorker?: number;
  /** Most sockets per source address. */
  readonly perAddress?: number;
  /** Most client worker processes. */
  readonly maxWorkers?: number;
  /** Connect handshake timeout. */
  readonly connectTimeoutMs?: number;
  /**
   * Pids of the other deployments on this machine: a step first waits (bounded) for them to be
   * idle too, and records the CPU they burned meanwhile (an emulator's backlog lands on the
   * shared cores, whichever deployment is being measured).
   */
  readonly otherPids?: () => number[];
}

type Figures = StepResult['figures'];

export abstract class ScenarioRun<P extends object> {
  readonly steps: StepResult[] = [];
  stopped: string | null = null;
  protected readonly total = new MetricSet();
  protected readonly pool: ClientPool;
  protected readonly log: Log;
  protected readonly connectTimeoutMs: number;
  private readonly started = new Date();
  private readonly startedMs = performance.now();
  private finished: Summary | undefined;

  constructor(
    readonly scenario: ScenarioName,
    readonly target: Target,
    readonly params: P,
    protected readonly options: RunOptions = {},
  ) {
    assertLocalTarget(target);
    this.log = options.log ?? silentLog;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.pool = new ClientPool({
      ...(options.firstAddress === undefined ? {} : { firstAddress: options.firstAddress }),
      ...(options.perWorker === undefined ? {} : { perWorker: options.perWorker }),
      ...(options.perAddress === undefined ? {} : { perAddress: options.perAddress }),
      ...(options.maxWorkers === undefined ? {} : { maxWorkers: options.maxWorkers }),
    });
  }

  /** Steps this scenario plans (it may stop before). */
  abstract get stepCount(): number;

  /** Runs step `i` unless the scenario has stopped. */
  async runStep(i: number): Promise<void> {
    if (this.stopped !== null || i >= this.stepCount) return;
    await this.step(i);
  }

  protected abstract step(i: number): Promise<void>;

  protected prefix(): string {
    return `[${this.target.name}] ${this.scenario}`;
  }

  /** Runs `body` as one measured step: server sampling, metrics, figures, bounded. */
  protected async measure(
    size: number,
    label: string,
    body: (m: MetricSet) => Promise<Figures>,
  ): Promise<StepResult> {
    if (this.options.otherPids) await waitForIdle(this.options.otherPids, 30_000);
    const others = this.options.otherPids;
    const otherCpu0 = others ? snapshot(others()).cpuMs : 0;
    const sampler = startSampler(() => this.target.serverPids());
    const t0 = performance.now();
    const m = new MetricSet();
    let figures: Figures;
    try {
      figures = await body(m);
    } catch (err) {
      sampler.stop();
      throw err;
    }
    const server = sampler.stop();
    const durationSeconds = round((performance.now() - t0) / 1000, 2);
    if (others) figures.otherDeploymentCpuMs = Math.round(snapshot(others()).cpuMs - otherCpu0);
    const step: StepResult = {
      size,
      label,
      durationSeconds,
      metrics: m.toMetrics(durationSeconds),
      server,
      figures,
    };
    this.total.merge(m);
    this.steps.push(step);
    return step;
  }

  /** Posts `events` add events (emoji `<prefix><i>`) at `rate` and waits for every tracked client. */
  protected async deliver(
    m: MetricSet,
    events: number,
    rate: number,
    timeoutSeconds: number,
    tag: string,
  ): Promise<{
    delivered: number;
    missed: number;
    duplicates: number;
    sent: number;
    cpuMs: number;
    waitedMs: number;
    failedPosts: number;
  }> {
    const prefix = stepPrefix(tag);
    await this.pool.expect({ prefix, events });
    const cpu0 = snapshot(this.target.serverPids()).cpuMs;
    const posted = await openLoop(this.target.httpUrl, this.target.signingSecret, {
      count: events,
      ratePerSecond: rate,
      maxMs: (events / rate) * 1000 + 5_000,
      body: (i) => ({ body: addEventBody(`${prefix}${i}`) }),
    });
    const lastSent = performance.now();
    let status = await this.pool.status();
    const wantPerEvent = status.tracked;
    const sentIdx = posted.sentAt.flatMap((t, i) => (t === null ? [] : [i]));
    const done = (): boolean => sentIdx.every((i) => (status.received[i] ?? 0) >= wantPerEvent);
    while (!done() && performance.now() - lastSent < timeoutSeconds * 1000) {
      await sleep(100);
      status = await this.pool.status();
    }
    const waitedMs = performance.now() - lastSent;
    const cpuMs = snapshot(this.target.serverPids()).cpuMs - cpu0;
    const got = await this.pool.collect(posted.sentAt);
    m.addTrend('ack_ms', posted.ackHist);
    m.add('ack_failed', posted.failed);
    m.addTrend('delivery_ms', got.deliveryHist);
    m.add('deliveries_missed', got.missed);
    m.add('deliveries_duplicate', got.duplicates);
    return {
      delivered: got.delivered,
      missed: got.missed,
      duplicates: got.duplicates,
      sent: posted.sent,
      cpuMs,
      waitedMs,
      failedPosts: posted.failed,
    };
  }

  /** Closes every client, stops the workers and renders the summary. Idempotent. */
  async finish(): Promise<Summary> {
    if (this.finished) return this.finished;
    await this.pool.closeAll().catch(() => 0);
    await this.pool.stop();
    const durationSeconds = round((performance.now() - this.startedMs) / 1000, 2);
    const samples = this.steps.flatMap((s) => s.server.samples);
    let t = 0;
    const rss = this.steps.flatMap((s) => {
      const out = s.server.samples.map((x) => ({ t: round(t + x.t, 1), rssMiB: x.rssMiB }));
      t += s.durationSeconds;
      return out;
    });
    this.finished = {
      metrics: this.total.toMetrics(durationSeconds),
      reactometer: {
        scenario: this.scenario,
        target: this.target.name,
        runner: 'node',
        startedAt: this.started.toISOString(),
        durationSeconds,
        params: {
          ...this.params,
          maxNewConnectionsPerSecond: this.target.maxNewConnectionsPerSecond,
        },
        steps: this.steps,
        stopped: this.stopped,
        server: {
          cpuMs: this.steps.reduce((a, s) => a + s.server.cpuMs, 0),
          rssMiB: rss.length > 0 ? rss : samples.map((x) => ({ t: x.t, rssMiB: x.rssMiB })),
        },
      },
    };
    return this.finished;
  }
}

function failuresText(f: Record<string, number>): string {
  const parts = Object.entries(f)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${v} x ${/^\d+$/.test(k) ? `HTTP ${k}` : k}`);
  return parts.join(', ');
}

/** Ramp, hold, probe, at each step; stop at refusals, errors, undelivered probes or slow connects. */
export class ConnectionScalingRun extends ScenarioRun<ConnectionScalingParams> {
  private baselineRss = 0;

  get stepCount(): number {
    return this.params.steps.length;
  }

  protected async step(i: number): Promise<void> {
    const size = this.params.steps[i] as number;
    if (i === 0) {
      await settleTarget(this.target, this.log);
      this.baselineRss = snapshot(this.target.serverPids()).rssBytes;
    }
    const rate = this.target.maxNewConnectionsPerSecond;
    await this.measure(size, `${size} connections`, async (m) => {
      const before = (await this.pool.status()).open;
      const delta = Math.max(0, size - before);
      const deadlineMs = Math.ceil((delta / rate) * 1000 * 2) + 20_000;
      const t0 = performance.now();
      const stopTick = ticker(2000, async () => {
        const s = await this.pool.status();
        this.log(`${this.prefix()} step ${size}: ${s.open} open, ramping at ${rate}/s`);
      });
      const c = await this.pool
        .connect(this.target.wsUrl, delta, rate, { timeoutMs: this.connectTimeoutMs, deadlineMs })
        .finally(stopTick);
      const rampSeconds = (performance.now() - t0) / 1000;
      m.addTrend('ws_connect_ms', c.connectHist);
      m.add('ws_connect_failed', c.failed);
      await this.pool.resetStats();
      await sleep(this.params.holdSeconds * 1000);
      const held = await this.pool.status();
      m.gauge('ws_connections_open', held.open);
      const rss = snapshot(this.target.serverPids()).rssBytes;
      const probe = await this.deliver(
        m,
        this.params.probeUpdates,
        1,
        15 + held.open / 1000,
        `p${size}`,
      );
      const connect = trendOf(c.connectHist);
      const failedRatio = delta > 0 ? c.failed / delta : 0;
      const expected = held.open * this.params.probeUpdates;
      const probeMissedRatio = expected > 0 ? probe.missed / expected : 0;
      this.log(
        `${this.prefix()} step ${size}: ${held.open} held, ${c.failed} failed${c.failed > 0 ? ` (${failuresText(c.failures)})` : ''}, connect p99 ${connect['p(99)']} ms, probe ${probe.delivered}/${expected} delivered`,
      );
      const t = this.params.stopWhenFailedRatioAbove;
      if (failedRatio > t) {
        this.stopped = `at the ${size}-connection step: ${c.failed} of ${delta} new connections failed (${failuresText(c.failures)}); ${held.open} held`;
      } else if (probeMissedRatio > t) {
        this.stopped = `at the ${size}-connection step: the probe update reached ${probe.delivered} of ${expected} connections within the wait`;
      } else if (connect['p(99)'] > 5_000) {
        this.stopped = `at the ${size}-connection step: connect latency collapsed (p99 ${connect['p(99)']} ms)`;
      } else if (held.closedByServer > delta * t) {
        this.stopped = `at the ${size}-connection step: the server closed ${held.closedByServer} connections during the hold`;
      }
      return {
        open: held.open,
        opened: c.opened,
        failed: c.failed,
        failedRatio: round(failedRatio, 4),
        failures: failuresText(c.failures),
        closedByServerDuringHold: held.closedByServer,
        rampSeconds: round(rampSeconds, 2),
        achievedConnectRate: rampSeconds > 0 ? round(c.opened / rampSeconds, 0) : 0,
        rssMiB: mib(rss),
        rssBaselineMiB: mib(this.baselineRss),
        bytesPerConnection: held.open > 0 ? Math.round((rss - this.baselineRss) / held.open) : null,
        probeDelivered: probe.delivered,
        probeExpected: expected,
        probeMissed: probe.missed,
      };
    });
    if (this.stopped !== null) this.log(`${this.prefix()} stopped ${this.stopped}`);
  }
}

/** N subscribers, events at a set rate; delivery latency, missed, duplicates, server CPU. */
export class FanOutRun extends ScenarioRun<FanOutParams> {
  get stepCount(): number {
    return this.params.clients.length;
  }

  protected async step(i: number): Promise<void> {
    const n = this.params.clients[i] as number;
    await settleTarget(this.target, this.log);
    const rssBefore = snapshot(this.target.serverPids()).rssBytes;
    const rate = this.target.maxNewConnectionsPerSecond;
    await this.measure(n, `${n} clients`, async (m) => {
      const stopTick = ticker(2000, async () => {
        const s = await this.pool.status();
        const got = s.received.reduce((a, b) => a + b, 0);
        this.log(`${this.prefix()} ${n} clients: ${s.open} open, ${got} deliveries so far`);
      });
      try {
        const c = await this.pool.connect(this.target.wsUrl, n, rate, {
          timeoutMs: this.connectTimeoutMs,
          deadlineMs: Math.ceil((n / rate) * 1000 * 2) + 20_000,
        });
        m.addTrend('ws_connect_ms', c.connectHist);
        m.add('ws_connect_failed', c.failed);
        await sleep(1000);
        const held = await this.pool.status();
        m.gauge('ws_connections_open', held.open);
        const rssHeld = snapshot(this.target.serverPids()).rssBytes;
        const d = await this.deliver(
          m,
          this.params.events,
          this.params.eventsPerSecond,
          this.params.deliveryTimeoutSeconds,
          `f${n}`,
        );
        const expected = held.open * d.sent;
        const missedRatio = expected > 0 ? d.missed / expected : 1;
        const delivery = trendOf(m.trend('delivery_ms') ?? c.connectHist);
        this.log(
          `${this.prefix()} ${n} clients: ${held.open} held, delivered ${d.delivered}/${expected}, missed ${d.missed}, dup ${d.duplicates}, p50 ${delivery.med} ms, p99 ${delivery['p(99)']} ms`,
        );
        if (c.failed > n * 0.05 || missedRatio > 0.5) {
          this.stopped = `at ${n} clients: ${c.failed} connects failed${c.failed > 0 ? ` (${failuresText(c.failures)})` : ''}, ${d.missed} of ${expected} deliveries missed within ${this.params.deliveryTimeoutSeconds} s`;
        }
        return {
          clients: n,
          open: held.open,
          connectFailed: c.failed,
          failures: failuresText(c.failures),
          eventsSent: d.sent,
          eventPostsFailed: d.failedPosts,
          delivered: d.delivered,
          expected,
          missed: d.missed,
          duplicates: d.duplicates,
          deliveryWaitMs: Math.round(d.waitedMs),
          serverCpuMsDuringDelivery: Math.round(d.cpuMs),
          serverCpuMicrosPerDelivery:
            d.delivered > 0 ? round((d.cpuMs * 1000) / d.delivered, 1) : null,
          rssBeforeMiB: mib(rssBefore),
          rssHeldMiB: mib(rssHeld),
          bytesPerConnection: held.open > 0 ? Math.round((rssHeld - rssBefore) / held.open) : null,
        };
      } finally {
        stopTick();
        await this.pool.closeAll();
      }
    });
    if (this.stopped !== null) this.log(`${this.prefix()} stopped ${this.stopped}`);
  }
}

/** Connect/disconnect continuously while updates flow; then check nothing leaked. */
export class ChurnRun extends ScenarioRun<ChurnParams> {
  get stepCount(): number {
    return 1;
  }

  protected async step(): Promise<void> {
    const p = this.params;
    await settleTarget(this.target, this.log);
    const base = snapshot(this.target.serverPids());
    const recordsBefore = (await this.target.connectionRecords?.().catch(() => null)) ?? null;
    await this.measure(
      p.concurrentClients,
      `${p.concurrentClients} churning clients`,
      async (m) => {
        const prefix = stepPrefix('c');
        const events = Math.ceil(p.durationSeconds * p.eventsPerSecond);
        // Workers first, so that every one of them tracks the step's updates.
        await this.pool.ensureCapacity(p.concurrentClients);
        await this.pool.expect({ prefix, events });
        const stopTick = ticker(2000, async () => {
          const s = await this.pool.status();
          this.log(`${this.prefix()}: ${s.open} open, ${s.tracked} connections so far`);
        });
        const [churned, posted] = await Promise.all([
          this.pool.churn(this.target.wsUrl, p.concurrentClients, {
            lifetimeMs: [
              p.connectionLifetimeSeconds[0] * 1000,
              p.connectionLifetimeSeconds[1] * 1000,
            ],
            durationMs: p.durationSeconds * 1000,
            timeoutMs: this.connectTimeoutMs,
            ratePerSecond: this.target.maxNewConnectionsPerSecond,
          }),
          openLoop(this.target.httpUrl, this.target.signingSecret, {
            count: events,
            ratePerSecond: p.eventsPerSecond,
            maxMs: p.durationSeconds * 1000,
            body: (i) => ({ body: addEventBody(`${prefix}${i}`) }),
          }),
        ]).finally(stopTick);
        const got = await this.pool.collect(posted.sentAt);
        m.addTrend('ws_connect_ms', churned.connectHist);
        m.add('ws_connect_failed', churned.failed);
        m.addTrend('ack_ms', posted.ackHist);
        m.add('ack_failed', posted.failed);
        m.addTrend('delivery_ms', got.deliveryHist);
        m.add('deliveries_duplicate', got.duplicates);
        m.gauge('ws_connections_open', (await this.pool.status()).open);
        await this.pool.stop();

        // Leak checks: give the server settleSeconds (and its idle wait) to clean up, then compare.
        await sleep(p.settleSeconds * 1000);
        await waitForIdle(() => this.target.serverPids(), 15_000);
        let records = (await this.target.connectionRecords?.().catch(() => null)) ?? null;
        const deadline = Date.now() + 15_000;
        while (records !== null && records > (recordsBefore ?? 0) && Date.now() < deadline) {
          await sleep(1000);
          records = (await this.target.connectionRecords?.().catch(() => null)) ?? null;
        }
        const after = snapshot(this.target.serverPids());
        let healthz: number | string;
        try {
          const res = await fetch(`${this.target.httpUrl}/healthz`, {
            signal: AbortSignal.timeout(5000),
          });
          await res.arrayBuffer();
          healthz = res.status;
        } catch (err) {
          healthz = (err as Error).name;
        }
        const rssDeltaMiB = mib(after.rssBytes - base.rssBytes);
        const wsPort = Number(new URL(this.target.wsUrl).port);
        // Client workers bind 127.0.0.2 and up; 127.0.0.1 is the driver's own keep-alive HTTP
        // connections (the droplet serves HTTP and WebSocket on one port).
        const socketsLeft = establishedOnPort(wsPort, (ip) => ip === '127.0.0.1');
        const leaks: string[] = [];
        // Descriptors also hold pooled HTTP and database connections, which come and go: the
        // WebSocket port's established sockets are the ones that must be gone.
        if (socketsLeft > 0)
          leaks.push(`${socketsLeft} sockets still established on the WebSocket port`);
        if (records !== null && records > (recordsBefore ?? 0))
          leaks.push(`${records} connection records left`);
        if (healthz !== 200) leaks.push(`healthz ${healthz}`);
        if (rssDeltaMiB > Math.max(30, mib(base.rssBytes) * 0.25))
          leaks.push(`RSS +${rssDeltaMiB} MiB`);
        this.log(
          `${this.prefix()}: ${churned.opened} connects (${churned.failed} failed), ${got.delivered} deliveries; after: healthz ${healthz}, ${socketsLeft} sockets on the WebSocket port, fds ${base.fds}->${after.fds}, RSS ${mib(base.rssBytes)}->${mib(after.rssBytes)} MiB, records ${records ?? 'n/a'}`,
        );
        return {
          connectsOpened: churned.opened,
          connectsFailed: churned.failed,
          failures: failuresText(churned.failures),
          closedByClient: churned.closedByUs,
          closedByServer: churned.closedByServer,
          eventsSent: posted.sent,
          delivered: got.delivered,
          duplicates: got.duplicates,
          rssBaselineMiB: mib(base.rssBytes),
          rssAfterMiB: mib(after.rssBytes),
          rssDeltaMiB,
          fdsBaseline: base.fds,
          fdsAfter: after.fds,
          wsSocketsAfter: socketsLeft,
          connectionRecordsBefore: recordsBefore,
          connectionRecordsAfter: records,
          healthz: String(healthz),
          leak: leaks.length === 0 ? 'none found' : leaks.join('; '),
        };
      },
    );
  }
}

/** Realistic signed events at rising rates; acknowledgement latency and errors. */
export class IngestRun extends ScenarioRun<IngestParams> {
  private readonly traffic = new SlackTraffic({
    seed: 42,
    team: `T0INGEST${Date.now().toString(36).toUpperCase()}`,
  });

  get stepCount(): number {
    return this.params.rates.length;
  }

  protected async step(i: number): Promise<void> {
    const rate = this.params.rates[i] as number;
    await waitForIdle(() => this.target.serverPids(), 15_000);
    await this.measure(rate, `${rate} events/s`, async (m) => {
      let sentSoFar = 0;
      const stopTick = ticker(2000, () =>
        this.log(`${this.prefix()} ${rate}/s: ${sentSoFar} sent`),
      );
      const count = Math.round(rate * this.params.stepSeconds);
      const r = await openLoop(this.target.httpUrl, this.target.signingSecret, {
        count,
        ratePerSecond: rate,
        maxMs: this.params.stepSeconds * 1000,
        body: trafficBodies(this.traffic),
        onProgress: (n) => {
          sentSoFar = n;
        },
      }).finally(stopTick);
      m.addTrend('ack_ms', r.ackHist);
      m.add('ack_failed', r.failed);
      const ack = trendOf(r.ackHist);
      this.log(
        `${this.prefix()} ${rate}/s: ${r.sent} sent, ${r.failed} failed${r.failed > 0 ? ` (${failuresText(r.failures)})` : ''}, ack p50 ${ack.med} ms, p99 ${ack['p(99)']} ms`,
      );
      if (r.sent > 0 && r.failed / r.sent > 0.5) {
        this.stopped = `at ${rate} events/s: ${r.failed} of ${r.sent} POSTs failed (${failuresText(r.failures)})`;
      }
      return {
        rate,
        sent: r.sent,
        failed: r.failed,
        failures: failuresText(r.failures),
        achievedRate: round(r.sent / Math.max(0.001, r.elapsedSeconds), 1),
        wallSeconds: round(r.elapsedSeconds, 2),
      };
    });
    // Server CPU is known only once the step's sampler has stopped.
    const last = this.steps[this.steps.length - 1];
    if (last)
      last.figures.serverCpuMsPerEvent = round(
        last.server.cpuMs / Math.max(1, Number(last.figures.sent)),
        2,
      );
  }
}

export type AnyScenarioRun = ScenarioRun<object>;

export interface ScenarioParamsByName {
  readonly 'connection-scaling': ConnectionScalingParams;
  readonly 'fan-out': FanOutParams;
  readonly churn: ChurnParams;
  readonly ingest: IngestParams;
}

export function createRun<N extends ScenarioName>(
  name: N,
  target: Target,
  params: ScenarioParamsByName[N],
  options: RunOptions = {},
): AnyScenarioRun {
  switch (name) {
    case 'connection-scaling':
      return new ConnectionScalingRun(name, target, params as ConnectionScalingParams, options);
    case 'fan-out':
      return new FanOutRun(name, target, params as FanOutParams, options);
    case 'churn':
      return new ChurnRun(name, target, params as ChurnParams, options);
    default:
      return new IngestRun(name, target, params as IngestParams, options);
  }
}

/** Plays one scenario against one target, step after step, and returns its summary. */
export async function runScenario<N extends ScenarioName>(
  name: N,
  target: Target,
  params: ScenarioParamsByName[N],
  options: RunOptions = {},
): Promise<Summary> {
  const run = createRun(name, target, params, options);
  try {
    for (let i = 0; i < run.stepCount && run.stopped === null; i++) await run.runStep(i);
  } finally {
    await run.finish();
  }
  return run.finish();
}

export { wallNow };
