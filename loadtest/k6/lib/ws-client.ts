/**
 * Many dashboard clients in one VU, on the core `k6/websockets` module: its global event loop
 * lets one VU hold hundreds or thousands of sockets, each opened with `new WebSocket()` and
 * driven by callbacks, while one timer chain paces new connections, times out slow handshakes,
 * sends keep-alive pings and reopens dropped clients when asked to.
 *
 * Each client asks for a snapshot when it opens (as the dashboard does), tracks the versions it
 * saw per emoji, and records probe deliveries (see probes.ts) so that missed and duplicate
 * updates can be counted afterwards.
 *
 * k6/websockets specifics handled here: close() on a still-CONNECTING socket would block the VU
 * (the write loop only starts once connected), so a timed-out handshake is abandoned and closed
 * when it opens; send() on a socket that is not OPEN throws; an exception in a handler closes
 * the socket, so every handler catches its own. `readyState` is compared with numbers
 * (READY_STATE): the named constants exist only from k6 v2.3.0 (grafana/k6#6306); before that
 * the constructor has no such properties and a comparison with them is always false, so nothing
 * would ever be sent or closed.
 */
import { WebSocket } from 'k6/websockets';
import { TARGET, WS_SETTINGS } from './config.ts';
import type { MessageEvent } from 'k6/websockets';
import { clearTimeout, setTimeout } from 'k6/timers';
import {
  deliveriesDuplicate,
  deliveriesMissed,
  deliveryMs,
  wsConnectFailed,
  wsConnectMs,
} from './metrics.ts';
import { PROBE_PREFIX, parseProbe } from './probes.ts';
import type { Probe } from './probes.ts';

/** The WebSocket readyState values (WHATWG spec); k6 before v2.3.0 exports no names for them. */
export const READY_STATE = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

/**
 * Paces one VU's new connections so that all VUs together never exceed a rate: VU `slot` of
 * `slots` may open one connection at each point of the grid `offset + k * interval` (absolute
 * wall-clock ms), where interval = slots / rate and the offsets interleave the VUs' grids. Unused
 * points are not saved up, so a VU that was idle cannot burst afterwards, and since the grid is
 * on the wall clock, VUs in different k6 instances interleave too.
 */
export class ConnectPacer {
  readonly intervalMs: number;
  private readonly offsetMs: number;
  private nextIndex = Number.NEGATIVE_INFINITY;

  constructor(totalPerSecond: number, slot: number, slots: number) {
    if (!(totalPerSecond > 0) || slots < 1)
      throw new Error('ConnectPacer needs a positive rate and slots');
    this.intervalMs = (1000 * slots) / totalPerSecond;
    this.offsetMs = ((slot % slots) * this.intervalMs) / slots;
  }

  /** Connections per second this VU may open. */
  get perSecond(): number {
    return 1000 / this.intervalMs;
  }

  /**
   * How many connections may be opened now (at most `max`): one per grid point reached since the
   * last call, counting only points within the last `backlogMs` (a timer tick or two).
   */
  take(max: number, backlogMs: number, nowMs: number = Date.now()): number {
    const latest = Math.floor((nowMs - this.offsetMs) / this.intervalMs);
    const oldest = Math.floor((nowMs - backlogMs - this.offsetMs) / this.intervalMs) + 1;
    const from = Math.max(this.nextIndex, oldest);
    const n = Math.min(max, latest - from + 1);
    if (n <= 0) return 0;
    this.nextIndex = from + n;
    return n;
  }
}

/** What is known about one connection, kept after it closes (for missed-delivery accounting). */
export interface ClientRecord {
  readonly id: number;
  readonly startedMs: number;
  /** 0 until the open event. */
  openedMs: number;
  /** 0 while open (or never opened). */
  closedMs: number;
  closedByUs: boolean;
  failed: boolean;
  /** When the first snapshot arrived (0: none yet). */
  snapshotMs: number;
  /** Probe key -> version first received. */
  readonly probes: Map<string, number>;
}

export type ConnectPhase = 'initial' | 'reconnect';

export interface PoolOptions {
  readonly url: string;
  /** Only this run's probes are tracked. */
  readonly runId: string;
  readonly pacer: ConnectPacer;
  readonly connectTimeoutMs: number;
  /** Application-level ping period (`{"action":"ping"}`); 0 for none. */
  readonly pingIntervalMs: number;
  /** Reopen clients the server closed (or that failed to connect) to keep `wanted` clients. */
  readonly reconnect: boolean;
  /** Tags on every metric sample (mutable: e.g. the current step). */
  readonly tags: Record<string, string>;
  /** Told about every connection the server (not we) closed. */
  readonly onServerClose?: (record: ClientRecord) => void;
  /**
   * A probe is expected only by clients open at least this long before it was sent: the server
   * must have registered the connection first (on AWS the fan-out reads the Connections table
   * with an eventually consistent scan). WS_SETTINGS.connectGraceMs.
   */
  readonly connectGraceMs: number;
}

interface Live {
  readonly record: ClientRecord;
  readonly ws: WebSocket;
  readonly phase: ConnectPhase;
  /** The handshake timed out: close it as soon as it opens. */
  abandoned: boolean;
  nextPingMs: number;
  /** Highest version seen in updates per (non-probe) emoji. */
  readonly versions: Map<string, number>;
  lastError: string;
}

interface Waiter {
  readonly done: () => boolean;
  readonly resolve: () => void;
  readonly deadlineMs: number;
}

/** How missed deliveries are counted; see ClientPool.countMissed. */
export type MissedMode = 'since-open' | 'while-open';

export class ClientPool {
  /** Every connection attempt of this pool, in order. */
  readonly records: ClientRecord[] = [];
  private readonly live = new Map<number, Live>();
  private readonly connecting = new Set<Live>();
  private wanted = 0;
  private nextId = 0;
  private ticker: number | null = null;
  private stopped = false;
  private waiters: Waiter[] = [];
  private skewWarned = false;
  private readonly tickMs: number;
  /** Set when a replacement is owed for a client the server dropped. */
  private phaseForNext: ConnectPhase = 'initial';

  constructor(private readonly opts: PoolOptions) {
    this.tickMs = Math.min(50, Math.max(10, opts.pacer.intervalMs));
    this.schedule();
  }

  /** Connections currently open. */
  openCount(): number {
    return this.live.size - this.connecting.size;
  }

  /** Connection attempts that failed (refused, errored, timed out). */
  failedCount(): number {
    return this.records.filter((r) => r.failed).length;
  }

  /**
   * Opens connections (paced) until `count` clients are held, and resolves once none is still
   * connecting, or at `deadlineMs`. Without `reconnect`, failed attempts are not retried: the
   * pool then holds fewer.
   */
  rampTo(count: number, deadlineMs: number): Promise<void> {
    this.wanted = count;
    return this.waitFor(
      () => this.connecting.size === 0 && this.live.size >= this.wanted,
      deadlineMs,
    );
  }

  /** Closes every client (ours, normal closure) and resolves when all are closed or at the timeout. */
  closeAll(timeoutMs: number): Promise<void> {
    this.wanted = 0;
    for (const c of this.live.values()) this.closeLive(c);
    return this.waitFor(() => this.live.size === 0, Date.now() + timeoutMs);
  }

  /** Closes one client; with `replace`, the pool opens another in its place (churn). */
  close(record: ClientRecord, replace: boolean): void {
    const c = this.live.get(record.id);
    if (c === undefined) return;
    if (!replace) this.wanted = Math.max(0, this.wanted - 1);
    this.closeLive(c);
  }

  /** Open clients' records (e.g. to pick one to churn). */
  openRecords(): ClientRecord[] {
    const out: ClientRecord[] = [];
    for (const c of this.live.values())
      if (c.record.openedMs > 0 && !c.abandoned) out.push(c.record);
    return out;
  }

  /** Stops the timer chain; the VU's iteration can only end once it is stopped. */
  stop(): void {
    this.stopped = true;
    if (this.ticker !== null) clearTimeout(this.ticker);
    this.ticker = null;
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  /**
   * Counts, records and returns the (client, probe) pairs never received. A client is expected to
   * have a probe when it had been open for `connectGraceMs` when the probe was sent, and:
   * - `since-open` (fan-out, scaling): we did not close it before `windowMs` after the send; a
   *   client the server dropped after the send missed it, one dropped before the send did not
   *   (it was no longer a client: counting it would mark it missed for every later probe and step);
   * - `while-open` (churn, keep-alive, where clients come and go by design): it stayed open from
   *   the send until `windowMs` after it.
   * `probes` null means the stored probes could not be read: then nothing can be verified, and
   * that is recorded as missed deliveries (one per client that opened, at least one, tagged
   * `reason:probes_unreadable`) so that the `deliveries_missed` thresholds fail instead of
   * passing on an empty counter.
   */
  countMissed(probes: readonly Probe[] | null, mode: MissedMode, windowMs: number): number {
    if (probes === null) {
      const clients = this.records.filter((r) => r.openedMs > 0).length;
      const unverified = Math.max(1, clients);
      console.error(
        `could not read the stored probes: ${clients} client(s) unverified, counted as ${unverified} missed deliveries`,
      );
      deliveriesMissed.add(unverified, { ...this.opts.tags, reason: 'probes_unreadable' });
      return unverified;
    }
    let missed = 0;
    for (const r of this.records) {
      if (r.openedMs === 0) continue;
      for (const p of probes) {
        if (p.sentMs < r.openedMs + this.opts.connectGraceMs) continue;
        if (r.closedMs > 0 && r.closedMs <= p.sentMs) continue;
        const closedEarly = r.closedMs > 0 && r.closedMs < p.sentMs + windowMs;
        if (closedEarly && (mode === 'while-open' || r.closedByUs)) continue;
        if (!r.probes.has(p.key)) missed++;
      }
    }
    // Added even when 0, so that the metric (and its thresholds) always has data.
    deliveriesMissed.add(missed, this.opts.tags);
    return missed;
  }

  private waitFor(done: () => boolean, deadlineMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (done() || this.stopped) resolve();
      else this.waiters.push({ done, resolve, deadlineMs });
    });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.ticker = setTimeout(() => {
      try {
        this.tick();
      } catch (e) {
        console.error(`ws pool tick failed: ${String(e)}`);
      }
      this.schedule();
    }, this.tickMs);
  }

  private tick(): void {
    const now = Date.now();
    for (const c of this.connecting) {
      if (!c.abandoned && now - c.record.startedMs > this.opts.connectTimeoutMs) {
        c.abandoned = true;
        this.fail(c, 'timeout');
      }
    }
    const missing = this.wanted - this.live.size;
    if (missing > 0) {
      // Two ticks of backlog absorb timer lateness; any 1 s window then sees at most
      // rate x (1 + 2 ticks) opens, well inside the headroom left below the quota.
      const n = this.opts.pacer.take(missing, 2 * this.tickMs, now);
      for (let i = 0; i < n; i++) this.open(this.phaseForNext);
    }
    if (this.opts.pingIntervalMs > 0) {
      for (const c of this.live.values()) {
        if (c.record.openedMs > 0 && !c.abandoned && now >= c.nextPingMs) {
          c.nextPingMs = now + this.opts.pingIntervalMs;
          this.send(c, '{"action":"ping"}');
        }
      }
    }
    if (this.waiters.length > 0) {
      const still: Waiter[] = [];
      for (const w of this.waiters) {
        if (w.done() || now >= w.deadlineMs) w.resolve();
        else still.push(w);
      }
      this.waiters = still;
    }
  }

  private open(phase: ConnectPhase): void {
    const record: ClientRecord = {
      id: this.nextId++,
      startedMs: Date.now(),
      openedMs: 0,
      closedMs: 0,
      closedByUs: false,
      failed: false,
      snapshotMs: 0,
      probes: new Map(),
    };
    this.records.push(record);
    const ws = new WebSocket(this.opts.url, null, { tags: { ...this.opts.tags, connect: phase } });
    const c: Live = {
      record,
      ws,
      phase,
      abandoned: false,
      nextPingMs: 0,
      versions: new Map(),
      lastError: '',
    };
    this.live.set(record.id, c);
    this.connecting.add(c);
    ws.onopen = () => this.guard(c, () => this.onOpen(c));
    ws.onmessage = (ev?: MessageEvent) => this.guard(c, () => this.onMessage(c, ev));
    ws.onerror = (ev) => {
      c.lastError = ev?.error ?? 'error';
    };
    ws.onclose = () => this.guard(c, () => this.onClose(c));
  }

  private guard(c: Live, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      console.error(`client ${c.record.id}: handler failed: ${String(e)}`);
    }
  }

  private onOpen(c: Live): void {
    this.connecting.delete(c);
    if (c.abandoned) {
      // Timed out already (counted as failed); k6 can close it now that it is open.
      c.record.closedByUs = true;
      c.ws.close();
      return;
    }
    const now = Date.now();
    c.record.openedMs = now;
    c.nextPingMs = now + this.opts.pingIntervalMs;
    wsConnectMs.add(now - c.record.startedMs, { ...this.opts.tags, connect: c.phase });
    // The dashboard asks for a snapshot on every (re)connect; so do we.
    this.send(c, '{"action":"getReactions"}');
  }

  private onClose(c: Live): void {
    this.live.delete(c.record.id);
    const wasConnecting = this.connecting.delete(c);
    if (wasConnecting && !c.abandoned) {
      this.fail(
        c,
        /bad handshake/i.test(c.lastError) ? 'handshake' : c.lastError === '' ? 'closed' : 'error',
      );
    }
    if (c.record.openedMs > 0 && c.record.closedMs === 0) c.record.closedMs = Date.now();
    const byServer = c.record.openedMs > 0 && !c.record.closedByUs;
    if (byServer) this.opts.onServerClose?.(c.record);
    // A client that failed or was dropped is replaced only when reconnecting; otherwise the pool
    // simply holds one fewer.
    if ((byServer || c.record.failed) && this.wanted > 0) {
      if (this.opts.reconnect) this.phaseForNext = 'reconnect';
      else this.wanted = Math.max(0, this.wanted - 1);
    }
  }

  private fail(c: Live, reason: string): void {
    if (c.record.failed) return;
    c.record.failed = true;
    wsConnectFailed.add(1, { ...this.opts.tags, connect: c.phase, reason });
    if (c.abandoned) {
      // Still CONNECTING: leave it in `live` until k6 reports open or close, but it no longer
      // counts toward `connecting` (rampTo would otherwise wait up to 60 s for k6's own limit).
      this.connecting.delete(c);
    }
  }

  private closeLive(c: Live): void {
    c.record.closedByUs = true;
    if (c.ws.readyState === READY_STATE.OPEN) {
      c.record.closedMs = Date.now();
      c.ws.close();
    } else if (c.ws.readyState === READY_STATE.CONNECTING) {
      c.abandoned = true; // closed in onOpen; close() now would block the VU
    }
  }

  private send(c: Live, data: string): void {
    if (c.ws.readyState === READY_STATE.OPEN) c.ws.send(data);
  }

  private onMessage(c: Live, ev: MessageEvent | undefined): void {
    if (ev === undefined || typeof ev.data !== 'string') return;
    // When k6's reader took the frame off the socket: excludes this VU's event-loop backlog.
    const receivedMs = ev.timestamp > 0 ? ev.timestamp : Date.now();
    const msg = JSON.parse(ev.data) as { type?: unknown; reactions?: unknown };
    if (msg.type === 'update' && Array.isArray(msg.reactions)) {
      for (const r of msg.reactions as { emoji?: unknown; version?: unknown }[]) {
        if (typeof r.emoji === 'string' && typeof r.version === 'number') {
          this.onUpdate(c, r.emoji, r.version, receivedMs);
        }
      }
    } else if (msg.type === 'snapshot') {
      if (c.record.snapshotMs === 0) c.record.snapshotMs = receivedMs;
    } else if (msg.type === 'error') {
      console.warn(`client ${c.record.id}: server error message ${ev.data.slice(0, 200)}`);
    }
  }

  private onUpdate(c: Live, emoji: string, version: number, receivedMs: number): void {
    const probe = emoji.startsWith(PROBE_PREFIX) ? parseProbe(emoji) : null;
    if (probe !== null && probe.runId === this.opts.runId) {
      const seen = c.record.probes.get(probe.key);
      if (seen !== undefined) {
        if (seen === version) deliveriesDuplicate.add(1, this.opts.tags);
        return;
      }
      c.record.probes.set(probe.key, version);
      const latency = receivedMs - probe.sentMs;
      if (latency < 0 && !this.skewWarned) {
        this.skewWarned = true;
        console.warn(
          `negative delivery latency ${latency.toFixed(1)} ms: sender and receiver clocks differ`,
        );
      }
      deliveryMs.add(Math.max(0, latency), this.opts.tags);
      return;
    }
    // Other traffic (or other runs' probes): only exact repeats are counted, as duplicates.
    const last = c.versions.get(emoji);
    if (last === version) deliveriesDuplicate.add(1, this.opts.tags);
    if (last === undefined || version > last) c.versions.set(emoji, version);
  }
}

/** Clients VU `slot` of `slots` holds when `total` are spread evenly over the VUs. */
export function shareOf(total: number, slot: number, slots: number): number {
  return Math.floor(total / slots) + (slot < total % slots ? 1 : 0);
}

/**
 * A pool on the configured target for VU `slot` of `slots` pooling VUs: paced under the target's
 * ramp rate, with the configured connect timeout and grace.
 */
export function targetPool(
  runId: string,
  slot: number,
  slots: number,
  opts: Pick<PoolOptions, 'tags'> &
    Partial<Pick<PoolOptions, 'pingIntervalMs' | 'reconnect' | 'onServerClose'>>,
): ClientPool {
  return new ClientPool({
    url: TARGET.wsUrl,
    runId,
    pacer: new ConnectPacer(TARGET.connectRatePerSecond, slot, slots),
    connectTimeoutMs: WS_SETTINGS.connectTimeoutMs,
    connectGraceMs: WS_SETTINGS.connectGraceMs,
    pingIntervalMs: opts.pingIntervalMs ?? 0,
    reconnect: opts.reconnect ?? false,
    tags: opts.tags,
    ...(opts.onServerClose === undefined ? {} : { onServerClose: opts.onServerClose }),
  });
}
