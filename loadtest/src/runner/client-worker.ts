/**
 * A client worker process: holds up to a few thousand WebSocket connections for the runner, bound
 * to the source addresses it is given, and answers the parent's requests over IPC
 * (`worker-protocol.ts`). Separate processes because one process may open at most 20,000 files
 * here, and several cores read frames faster than one.
 *
 * Receipt times are taken on the shared wall clock (`performance.timeOrigin + performance.now()`)
 * and turned into latencies only at `collect`, when the parent sends each event's send time on the
 * same clock: every process on one machine reads the same system clock, so no per-event message
 * has to reach the worker before the update it describes.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createHistogram, encodeHistogram, recordMs } from '@reactometer/devkit';
import type {
  ConnectStats,
  Expectation,
  WorkerReply,
  WorkerRequest,
  WorkerStatus,
} from './worker-protocol.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Handshakes in flight at once from this worker; more only queue in the kernel. */
const MAX_IN_FLIGHT = 1000;

interface Client {
  readonly ws: WebSocket;
  /** Per event index of the current expectation: 1 once received. */
  seen: Uint8Array | null;
  closingByUs: boolean;
  open: boolean;
}

const clients = new Set<Client>();
let expectation: Expectation | null = null;
let tracked: Client[] = [];
let receipts: number[][] = [];
let received: number[] = [];
let duplicates = 0;
let closedByServer = 0;
let inFlight = 0;

function send(reply: WorkerReply): void {
  process.send?.(reply);
}

function onFrame(client: Client, data: WebSocket.RawData): void {
  const exp = expectation;
  if (exp === null || client.seen === null) return;
  const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
  if (!text.includes(exp.prefix)) return;
  const t = now();
  let msg: { type?: unknown; reactions?: { emoji?: unknown }[] };
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    return;
  }
  if (msg.type !== 'update' || !Array.isArray(msg.reactions)) return;
  for (const r of msg.reactions) {
    if (typeof r.emoji !== 'string' || !r.emoji.startsWith(exp.prefix)) continue;
    const idx = Number(r.emoji.slice(exp.prefix.length));
    if (!Number.isInteger(idx) || idx < 0 || idx >= exp.events) continue;
    if (client.seen[idx] === 1) {
      duplicates++;
      continue;
    }
    client.seen[idx] = 1;
    received[idx] = (received[idx] ?? 0) + 1;
    receipts[idx]?.push(t);
  }
}

function track(client: Client): void {
  if (expectation === null) return;
  client.seen = new Uint8Array(expectation.events);
  tracked.push(client);
}

interface Counters {
  opened: number;
  failed: number;
  failures: Record<string, number>;
  hist: ReturnType<typeof createHistogram>;
}

const newCounters = (): Counters => ({
  opened: 0,
  failed: 0,
  failures: {},
  hist: createHistogram(),
});

const statsOf = (c: Counters): ConnectStats => ({
  opened: c.opened,
  failed: c.failed,
  failures: c.failures,
  connectHist: encodeHistogram(c.hist),
});

/** Opens one connection; resolves with the client once open, or null after counting the failure. */
function openOne(
  url: string,
  localAddress: string | undefined,
  timeoutMs: number,
  counters: Counters,
  onClosed?: (client: Client) => void,
): Promise<Client | null> {
  inFlight++;
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      inFlight--;
      counters.failed++;
      counters.failures[reason] = (counters.failures[reason] ?? 0) + 1;
      resolve(null);
    };
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
      followRedirects: false,
      ...(localAddress === undefined ? {} : { localAddress }),
    });
    const client: Client = { ws, seen: null, closingByUs: false, open: false };
    ws.on('unexpected-response', (req, res) => {
      res.resume();
      req.destroy();
      fail(String(res.statusCode ?? 'http'));
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (settled) return;
      fail(/handshake has timed out/i.test(err.message) ? 'timeout' : (err.code ?? 'error'));
    });
    ws.on('open', () => {
      if (settled) {
        ws.terminate();
        return;
      }
      settled = true;
      inFlight--;
      counters.opened++;
      recordMs(counters.hist, performance.now() - started);
      client.open = true;
      clients.add(client);
      track(client);
      resolve(client);
    });
    ws.on('message', (data) => onFrame(client, data));
    ws.on('close', () => {
      if (!client.open) return fail('closed');
      client.open = false;
      clients.delete(client);
      if (!client.closingByUs) closedByServer++;
      onClosed?.(client);
    });
  });
}

async function connect(req: Extract<WorkerRequest, { op: 'connect' }>): Promise<WorkerReply> {
  const counters = newCounters();
  const start = performance.now();
  const pending: Promise<unknown>[] = [];
  let i = 0;
  while (i < req.count) {
    const elapsed = performance.now() - start;
    if (elapsed > req.deadlineMs) break;
    const due = Math.min(req.count, Math.floor((elapsed / 1000) * req.ratePerSecond) + 1);
    while (i < due && inFlight < MAX_IN_FLIGHT) {
      const addr = req.localAddresses[i % Math.max(1, req.localAddresses.length)];
      pending.push(openOne(req.url, addr, req.timeoutMs, counters));
      i++;
    }
    await sleep(5);
  }
  // Not opened before the deadline: counted as failed, the step could not reach its size.
  if (i < req.count) {
    counters.failed += req.count - i;
    counters.failures.deadline = (counters.failures.deadline ?? 0) + (req.count - i);
  }
  await Promise.all(pending);
  return { op: 'connect', id: req.id, stats: statsOf(counters), open: clients.size };
}

async function churn(req: Extract<WorkerRequest, { op: 'churn' }>): Promise<WorkerReply> {
  const counters = newCounters();
  const start = performance.now();
  const end = start + req.durationMs;
  const mine = new Set<Client>();
  let toOpen = req.concurrent;
  let closedByUs = 0;
  let serverClosed = 0;
  let addr = 0;
  let tokens = 0;
  let last = performance.now();
  const pending: Promise<unknown>[] = [];
  const [minLife, maxLife] = req.lifetimeMs;
  while (performance.now() < end) {
    const t = performance.now();
    tokens = Math.min(req.ratePerSecond, tokens + ((t - last) / 1000) * req.ratePerSecond);
    last = t;
    while (toOpen > 0 && tokens >= 1 && inFlight < MAX_IN_FLIGHT) {
      toOpen--;
      tokens--;
      const a = req.localAddresses[addr++ % Math.max(1, req.localAddresses.length)];
      const p = openOne(req.url, a, req.timeoutMs, counters, (c) => {
        mine.delete(c);
        if (!c.closingByUs) serverClosed++;
        if (performance.now() < end) toOpen++;
      }).then((client) => {
        if (client === null) {
          if (performance.now() < end) toOpen++;
          return;
        }
        mine.add(client);
        const life = minLife + Math.random() * (maxLife - minLife);
        setTimeout(() => {
          if (!client.open) return;
          client.closingByUs = true;
          closedByUs++;
          client.ws.close(1000);
        }, life).unref();
      });
      pending.push(p);
    }
    await sleep(10);
  }
  await Promise.all(pending);
  for (const c of mine) {
    c.closingByUs = true;
    closedByUs++;
    c.ws.close(1000);
  }
  const deadline = performance.now() + req.timeoutMs;
  while ([...mine].some((c) => c.open) && performance.now() < deadline) await sleep(20);
  for (const c of mine) if (c.open) c.ws.terminate();
  return {
    op: 'churn',
    id: req.id,
    stats: statsOf(counters),
    closedByUs,
    closedByServer: serverClosed,
  };
}

async function closeAll(timeoutMs: number): Promise<number> {
  const all = [...clients];
  for (const c of all) {
    c.closingByUs = true;
    c.ws.close(1000);
  }
  const deadline = performance.now() + timeoutMs;
  while (clients.size > 0 && performance.now() < deadline) await sleep(20);
  for (const c of [...clients]) c.ws.terminate();
  return all.length;
}

function status(): WorkerStatus {
  return { open: clients.size, closedByServer, received: [...received], tracked: tracked.length };
}

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  switch (req.op) {
    case 'connect':
      return connect(req);
    case 'churn':
      return churn(req);
    case 'expect': {
      expectation = req.expectation;
      tracked = [];
      duplicates = 0;
      received = new Array<number>(req.expectation.events).fill(0);
      receipts = Array.from({ length: req.expectation.events }, () => []);
      for (const c of clients) track(c);
      return { op: 'expect', id: req.id };
    }
    case 'status':
      return { op: 'status', id: req.id, status: status() };
    case 'collect': {
      const hist = createHistogram();
      let delivered = 0;
      let missed = 0;
      req.sentAt.forEach((sent, idx) => {
        if (sent === null) return;
        for (const t of receipts[idx] ?? []) {
          recordMs(hist, t - sent);
          delivered++;
        }
        for (const c of tracked) if (c.seen?.[idx] !== 1) missed++;
      });
      return {
        op: 'collect',
        id: req.id,
        result: { deliveryHist: encodeHistogram(hist), delivered, duplicates, missed },
      };
    }
    case 'closeAll':
      return { op: 'closeAll', id: req.id, closed: await closeAll(req.timeoutMs) };
    case 'resetStats':
      closedByServer = 0;
      return { op: 'resetStats', id: req.id };
  }
}

process.on('message', (req: WorkerRequest) => {
  handle(req).then(send, (err: unknown) =>
    send({ op: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) }),
  );
});
// The parent going away (crash, Ctrl+C) must not leave thousands of sockets open.
process.on('disconnect', () => process.exit(0));
send({ op: 'ready', id: 0, pid: process.pid });
