/**
 * The parent's side of the client workers: forks them on demand (at most `perWorker` sockets
 * each), gives each its own 127.0.0.x source addresses (a few thousand sockets per address), spreads
 * connection counts and rates over them, and merges what they report.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Histogram } from '@reactometer/devkit';
import { createHistogram, decodeHistogram, mergeInto } from '@reactometer/devkit';
import type {
  CollectResult,
  ConnectStats,
  Expectation,
  WorkerReply,
  WorkerRequest,
  WorkerStatus,
} from './worker-protocol.js';

const WORKER_FILE = fileURLToPath(new URL('./client-worker.ts', import.meta.url));

/** Time allowed for any one request to a worker beyond its own bound. */
const REPLY_SLACK_MS = 30_000;

export interface ClientPoolOptions {
  /** Most sockets per worker process (the per-process open-file limit is 20,000 here). */
  readonly perWorker?: number;
  /** Most sockets bound to one source address. */
  readonly perAddress?: number;
  /** First source address is 127.0.0.<firstAddress>; each pool should get its own range. */
  readonly firstAddress?: number;
  /** Most worker processes. */
  readonly maxWorkers?: number;
}

/** Merged connect figures of one request spread over several workers. */
export interface MergedConnect {
  readonly opened: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly connectHist: Histogram;
}

export interface MergedCollect {
  readonly deliveryHist: Histogram;
  readonly delivered: number;
  readonly duplicates: number;
  readonly missed: number;
}

type Pending = {
  resolve: (r: WorkerReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
};

class WorkerHandle {
  readonly child: ChildProcess;
  readonly addresses: readonly string[];
  /** Sockets this worker is holding or has been asked to open. */
  assigned = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  readonly ready: Promise<void>;
  private exited = false;

  constructor(addresses: readonly string[]) {
    this.addresses = addresses;
    this.child = fork(WORKER_FILE, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('client worker did not start in 30 s')),
        30_000,
      );
      this.child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`client worker exited (${code}) before it was ready`));
      });
    });
    this.child.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (p === undefined) return;
      this.pending.delete(reply.id);
      clearTimeout(p.timer);
      if (reply.op === 'error') p.reject(new Error(`client worker: ${reply.message}`));
      else p.resolve(reply);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`client worker exited (${code ?? signal})`));
      }
      this.pending.clear();
    });
  }

  request<O extends WorkerRequest['op']>(
    req: Omit<Extract<WorkerRequest, { op: O }>, 'id'>,
    boundMs: number,
  ): Promise<Extract<WorkerReply, { op: O }>> {
    if (this.exited) return Promise.reject(new Error('client worker has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(`client worker did not answer ${req.op} within ${boundMs + REPLY_SLACK_MS} ms`),
        );
      }, boundMs + REPLY_SLACK_MS);
      this.pending.set(id, {
        resolve: resolve as (r: WorkerReply) => void,
        reject,
        timer,
      });
      this.child.send({ ...req, id });
    });
  }

  kill(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}

export class ClientPool {
  private readonly workers: WorkerHandle[] = [];
  private readonly perWorker: number;
  private readonly perAddress: number;
  private readonly firstAddress: number;
  private readonly maxWorkers: number;

  constructor(options: ClientPoolOptions = {}) {
    this.perWorker = options.perWorker ?? 5000;
    this.perAddress = options.perAddress ?? 2500;
    this.firstAddress = options.firstAddress ?? 2;
    this.maxWorkers = options.maxWorkers ?? 6;
  }

  /** Process ids of the workers (for tests and diagnostics). */
  get pids(): number[] {
    return this.workers.map((w) => w.child.pid as number);
  }

  /** Source addresses each worker binds. */
  get addresses(): string[][] {
    return this.workers.map((w) => [...w.addresses]);
  }

  private addressesFor(index: number): string[] {
    const per = Math.max(1, Math.ceil(this.perWorker / this.perAddress));
    return Array.from({ length: per }, (_, i) => {
      const n = this.firstAddress + index * per + i;
      if (n > 254) throw new Error(`no 127.0.0.x address left for worker ${index}`);
      return `127.0.0.${n}`;
    });
  }

  /** Ensures enough workers to hold `total` sockets; returns how many are in use. */
  async ensureCapacity(total: number): Promise<void> {
    const needed = Math.min(this.maxWorkers, Math.max(1, Math.ceil(total / this.perWorker)));
    while (this.workers.length < needed) {
      this.workers.push(new WorkerHandle(this.addressesFor(this.workers.length)));
    }
    await Promise.all(this.workers.map((w) => w.ready));
  }

  /** Spreads `count` over the workers with free room (first ones filled first). */
  private spread(count: number): { worker: WorkerHandle; n: number }[] {
    const out: { worker: WorkerHandle; n: number }[] = [];
    let left = count;
    for (const w of this.workers) {
      if (left <= 0) break;
      const room = Math.max(0, this.perWorker - w.assigned);
      const n = Math.min(room, left);
      if (n > 0) out.push({ worker: w, n });
      left -= n;
    }
    if (left > 0)
      throw new Error(`pool is full: ${left} more sockets than ${this.maxWorkers} workers hold`);
    return out;
  }

  /** Opens `count` more connections at `ratePerSecond` in total, bounded by `deadlineMs`. */
  async connect(
    url: string,
    count: number,
    ratePerSecond: number,
    opts: { timeoutMs: number; deadlineMs: number },
  ): Promise<MergedConnect> {
    const held = this.workers.reduce((a, w) => a + w.assigned, 0);
    await this.ensureCapacity(held + count);
    const parts = this.spread(count);
    const replies = await Promise.all(
      parts.map(({ worker, n }) => {
        worker.assigned += n;
        return worker.request<'connect'>(
          {
            op: 'connect',
            url,
            count: n,
            ratePerSecond: (ratePerSecond * n) / count,
            localAddresses: worker.addresses,
            timeoutMs: opts.timeoutMs,
            deadlineMs: opts.deadlineMs,
          },
          opts.deadlineMs + opts.timeoutMs,
        );
      }),
    );
    // What a worker holds is what is open there now (failures and server closes free room).
    replies.forEach((r, i) => {
      const part = parts[i];
      if (part) part.worker.assigned = r.open;
    });
    return mergeConnect(replies.map((r) => r.stats));
  }

  /** Churns `concurrent` connections over the workers for `durationMs`. */
  async churn(
    url: string,
    concurrent: number,
    opts: {
      lifetimeMs: [number, number];
      durationMs: number;
      timeoutMs: number;
      ratePerSecond: number;
    },
  ): Promise<MergedConnect & { closedByUs: number; closedByServer: number }> {
    const held = this.workers.reduce((a, w) => a + w.assigned, 0);
    await this.ensureCapacity(held + concurrent);
    const parts = this.spread(concurrent);
    const replies = await Promise.all(
      parts.map(({ worker, n }) =>
        worker.request<'churn'>(
          {
            op: 'churn',
            url,
            concurrent: n,
            lifetimeMs: opts.lifetimeMs,
            durationMs: opts.durationMs,
            localAddresses: worker.addresses,
            timeoutMs: opts.timeoutMs,
            ratePerSecond: (opts.ratePerSecond * n) / concurrent,
          },
          opts.durationMs + opts.timeoutMs * 2,
        ),
      ),
    );
    return {
      ...mergeConnect(replies.map((r) => r.stats)),
      closedByUs: replies.reduce((a, r) => a + r.closedByUs, 0),
      closedByServer: replies.reduce((a, r) => a + r.closedByServer, 0),
    };
  }

  async expect(expectation: Expectation): Promise<void> {
    await Promise.all(
      this.workers.map((w) => w.request<'expect'>({ op: 'expect', expectation }, 5000)),
    );
  }

  /** Open connections and distinct receipts per event index, summed over the workers. */
  async status(): Promise<WorkerStatus> {
    const all = await Promise.all(
      this.workers.map((w) => w.request<'status'>({ op: 'status' }, 5000)),
    );
    const received: number[] = [];
    for (const r of all)
      r.status.received.forEach((n, i) => {
        received[i] = (received[i] ?? 0) + n;
      });
    return {
      open: all.reduce((a, r) => a + r.status.open, 0),
      closedByServer: all.reduce((a, r) => a + r.status.closedByServer, 0),
      received,
      tracked: all.reduce((a, r) => a + r.status.tracked, 0),
    };
  }

  async collect(sentAt: readonly (number | null)[]): Promise<MergedCollect> {
    const all = await Promise.all(
      this.workers.map((w) => w.request<'collect'>({ op: 'collect', sentAt }, 10_000)),
    );
    return mergeCollect(all.map((r) => r.result));
  }

  async resetStats(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request<'resetStats'>({ op: 'resetStats' }, 5000)));
  }

  /** Closes every connection (close handshake, then terminate after `timeoutMs`). */
  async closeAll(timeoutMs = 10_000): Promise<number> {
    const all = await Promise.all(
      this.workers.map((w) => w.request<'closeAll'>({ op: 'closeAll', timeoutMs }, timeoutMs)),
    );
    for (const w of this.workers) w.assigned = 0;
    return all.reduce((a, r) => a + r.closed, 0);
  }

  /** Kills every worker (their sockets close with them). */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.kill()));
    this.workers.length = 0;
  }
}

export function mergeConnect(stats: readonly ConnectStats[]): MergedConnect {
  const hist = createHistogram();
  const failures: Record<string, number> = {};
  let opened = 0;
  let failed = 0;
  for (const s of stats) {
    opened += s.opened;
    failed += s.failed;
    for (const [k, v] of Object.entries(s.failures)) failures[k] = (failures[k] ?? 0) + v;
    mergeInto(hist, decodeHistogram(s.connectHist));
  }
  return { opened, failed, failures, connectHist: hist };
}

export function mergeCollect(results: readonly CollectResult[]): MergedCollect {
  const hist = createHistogram();
  let delivered = 0;
  let duplicates = 0;
  let missed = 0;
  for (const r of results) {
    delivered += r.delivered;
    duplicates += r.duplicates;
    missed += r.missed;
    mergeInto(hist, decodeHistogram(r.deliveryHist));
  }
  return { deliveryHist: hist, delivered, duplicates, missed };
}
