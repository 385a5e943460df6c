/**
 * The fan-out's timing model: a discrete-event simulation of the sharded fan-out as the code runs
 * it (serverless/src/fanout, shared/src/fanout/fan-out.ts), given the parameters that decide its
 * speed. The same simulation predicts AWS (with AWS's parameters, loadtest's `npm run model`) and
 * the local runs against the @connections stand-in (with this machine's), which is how the model
 * is checked: see the serverless bench and loadtest's model-vs-stand-in test.
 *
 * What it simulates, per worker (one DynamoDB Scan segment, `connections / workers` records):
 * - `concurrency` slots; each takes the next record, then a token from the worker's bucket, then
 *   the CPU for one post, then waits one post round trip;
 * - Scan pages of `pageSize`, the next requested when the current one starts being sent (the
 *   fan-out reads one page ahead);
 * - CPU either one per worker (Lambda: each worker is an execution environment with its own vCPU
 *   share) or shared by every worker (one Node process here).
 * Workers may start late (an invocation hop, a cold start): `workerStartMs`.
 */
import { latencySampler, seededRandom, type LatencyDistribution } from './distributions.js';

export interface FanOutSimulationInput {
  readonly connections: number;
  readonly workers: number;
  /** Posts in flight per worker (FANOUT_CONCURRENCY). */
  readonly concurrency: number;
  /** Each worker's token bucket; null: no limiter. */
  readonly limits: { readonly ratePerSecond: number; readonly burst: number } | null;
  /** One PostToConnection round trip. */
  readonly postRoundTrip: LatencyDistribution;
  /**
   * CPU time per post, as spent on the CPU the worker runs on: part before the request is sent
   * (signing, writing), the rest when its answer is read, which waits for the CPU like the rest.
   */
  readonly cpuPerPostMs: number;
  /** Share of `cpuPerPostMs` spent before sending (default 0.6). */
  readonly cpuSendShare?: number;
  /** 'per-worker': each worker has its own CPU; a number: that many CPUs shared by all. */
  readonly cpus: 'per-worker' | number;
  readonly pageSize: number;
  /** One Scan page round trip. */
  readonly pageRoundTrip: LatencyDistribution;
  /** When each worker starts, from the flush's start (default 0 for all). */
  readonly workerStartMs?: (worker: number) => number;
  readonly seed?: number;
}

export interface FanOutSimulation {
  /** Completion time of every post from the flush's start, ms (one per connection). */
  readonly deliveries: Float64Array;
  /** Worker of each delivery (same order). */
  readonly workerOf: Uint16Array;
  /** When each worker's last post completed. */
  readonly workerFinishMs: readonly number[];
  readonly finishMs: number;
  /** The most posts completed in any one-second window. */
  readonly busiestSecondPosts: number;
}

/** A binary min-heap of [time, worker, slot] packed in typed arrays (millions of pops). */
class SlotHeap {
  private time: Float64Array;
  private who: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.time = new Float64Array(capacity);
    this.who = new Int32Array(capacity);
  }

  push(t: number, w: number): void {
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.time[p]! <= t) break;
      this.time[i] = this.time[p]!;
      this.who[i] = this.who[p]!;
      i = p;
    }
    this.time[i] = t;
    this.who[i] = w;
  }

  /** Pops the earliest; returns its worker and leaves its time in `lastTime`. */
  lastTime = 0;
  pop(): number {
    const top = this.who[0]!;
    this.lastTime = this.time[0]!;
    const n = --this.size;
    const t = this.time[n]!;
    const w = this.who[n]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.time[r]! < this.time[l]! ? r : l;
      if (this.time[c]! >= t) break;
      this.time[i] = this.time[c]!;
      this.who[i] = this.who[c]!;
      i = c;
    }
    this.time[i] = t;
    this.who[i] = w;
    return top;
  }
}

export function simulateFanOut(input: FanOutSimulationInput): FanOutSimulation {
  const workers = Math.max(1, Math.floor(input.workers));
  const n = Math.max(0, Math.floor(input.connections));
  const random = seededRandom(input.seed ?? 7);
  const rtt = latencySampler(input.postRoundTrip, random);
  const pageRtt = latencySampler(input.pageRoundTrip, random);
  const start = Array.from({ length: workers }, (_, w) => input.workerStartMs?.(w) ?? 0);

  // DynamoDB's segments split the key space evenly: records per worker differ by at most one.
  const size = Array.from(
    { length: workers },
    (_, w) => Math.floor(n / workers) + (w < n % workers ? 1 : 0),
  );
  const taken = new Array<number>(workers).fill(0);
  // Page k of worker w: when it arrives, when it was loaded into the buffer (and k+1 requested).
  const pageArrives: number[][] = start.map((s) => [s + pageRtt()]);
  const pageLoaded: number[][] = start.map(() => []);
  // Token buckets (reservation model, as TokenBucket.take does).
  const tokens = new Array<number>(workers).fill(input.limits?.burst ?? 0);
  const refilled = [...start];
  const perMs = input.limits === null ? 0 : input.limits.ratePerSecond / 1000;
  // CPUs.
  const shared = input.cpus !== 'per-worker';
  const cpuCount = shared ? Math.max(1, Math.floor(input.cpus as number)) : workers;
  const cpuFree = new Float64Array(cpuCount);
  for (let c = 0; c < cpuCount && !shared; c++) cpuFree[c] = start[c]!;

  const sendCpu = input.cpuPerPostMs * (input.cpuSendShare ?? 0.6);
  const recvCpu = input.cpuPerPostMs - sendCpu;
  const deliveries = new Float64Array(n);
  const workerOf = new Uint16Array(n);
  const workerFinish = [...start];
  let d = 0;

  // Events in time order, so that the CPU is reserved in the order the work happens: a slot is
  // free (take a record and a token), a post may be sent (it has both; it needs the CPU), or an
  // answer arrived (reading it needs the CPU; then the slot is free again).
  const FREE = 0;
  const SEND = 1;
  const ANSWER = 2;
  const heap = new SlotHeap(2 * workers * Math.max(1, input.concurrency) + 1);
  for (let w = 0; w < workers; w++)
    for (let s = 0; s < Math.min(input.concurrency, size[w]!); s++)
      heap.push(start[w]!, 4 * w + FREE);

  while (heap.size > 0) {
    const event = heap.pop();
    const t = heap.lastTime;
    const w = event >> 2;
    const kind = event & 3;
    if (kind === ANSWER) {
      const cpu = shared ? earliest(cpuFree) : w;
      const done = Math.max(t, cpuFree[cpu]!) + recvCpu;
      cpuFree[cpu] = done;
      deliveries[d] = done;
      workerOf[d++] = w;
      if (done > workerFinish[w]!) workerFinish[w] = done;
      heap.push(done, 4 * w + FREE);
      continue;
    }
    if (kind === SEND) {
      const cpu = shared ? earliest(cpuFree) : w;
      const sent = Math.max(t, cpuFree[cpu]!) + sendCpu;
      cpuFree[cpu] = sent;
      heap.push(sent + rtt(), 4 * w + ANSWER);
      continue;
    }
    if (taken[w]! >= size[w]!) continue;
    const j = taken[w]!++;
    const page = Math.floor(j / input.pageSize);
    const loaded = pageLoaded[w]!;
    if (loaded[page] === undefined) {
      // The page is loaded when it has arrived and a slot needs it; the next one is asked then.
      const at = Math.max(pageArrives[w]![page]!, t);
      loaded[page] = at;
      pageArrives[w]![page + 1] = at + pageRtt();
    }
    let ready = Math.max(t, loaded[page]!);
    if (input.limits !== null) {
      const now = Math.max(ready, refilled[w]!);
      tokens[w] = Math.min(input.limits.burst, tokens[w]! + (now - refilled[w]!) * perMs);
      refilled[w] = now;
      tokens[w]! -= 1;
      if (tokens[w]! < 0) ready = now + -tokens[w]! / perMs;
    }
    heap.push(ready, 4 * w + SEND);
  }

  // Busiest second: 10 ms bins, a sliding sum of 100 of them.
  let finish = 0;
  for (const v of deliveries) if (v > finish) finish = v;
  const bins = new Uint32Array(Math.ceil(finish / 10) + 2);
  for (const v of deliveries) bins[Math.floor(v / 10)]!++;
  let window = 0;
  let busiest = 0;
  for (let i = 0; i < bins.length; i++) {
    window += bins[i]!;
    if (i >= 100) window -= bins[i - 100]!;
    if (window > busiest) busiest = window;
  }
  return {
    deliveries,
    workerOf,
    workerFinishMs: workerFinish,
    finishMs: finish,
    busiestSecondPosts: busiest,
  };
}

/** Index of the CPU that frees up first. */
function earliest(free: Float64Array): number {
  let best = 0;
  for (let i = 1; i < free.length; i++) if (free[i]! < free[best]!) best = i;
  return best;
}

/** The `p`-th percentile (0-100) of `values` (sorted copy; nearest rank). */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
