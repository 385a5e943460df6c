/**
 * Droplet benchmarks (`npm run bench -w legacy-server`): prints figures, asserts nothing. Where a
 * figure compares two things, both run in the same invocation, alternating, and the ratio is
 * printed: the machine (2 cores) is shared, so only same-run ratios mean much.
 *
 *   startup    start-up time (spawn -> `listening`) and idle RSS: the build (`node dist/main.js`)
 *              vs the TypeScript sources through tsx, alternating.
 *   ack        Slack-event acknowledgement latency at a steady rate (open loop: latency from each
 *              request's scheduled send time) and CPU per event, split between the droplet,
 *              FerretDB and PostgreSQL; once per FerretDB backend (SQLite, PostgreSQL).
 *   ceiling    the ingest ceiling per backend: rising rates, the highest one sustained (>= 95% of
 *              the rate achieved, no error, p99 under 1 s).
 *   states     cost per event as the data grows: states seeded in bulk (the store's own document
 *              mapping) to 1,000, 10,000 and 100,000, and at each size Slack events at a steady rate:
 *              CPU per event (droplet + FerretDB + PostgreSQL, counted once the inbox has drained),
 *              acknowledgement latency, and latency from stored to counted (the inbox worker's
 *              `queuedMs`); the ratios against the smallest size are printed.
 *   broadcast  delivery latency of one update, event POST -> receipt by every client, at each
 *              client count: the droplet vs a naive `ws` server (`naive-broadcaster.mjs`: no
 *              database, `JSON.stringify` once, `ws.send` per client), alternating, same clients
 *              (`client-worker.mjs`: up to 2,500 sockets per process, own 127.0.0.x address).
 *
 * Env BENCH_NODE_FLAGS passes flags to the droplet process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
 * Flags: see `--help`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { MongoClient } from 'mongodb';
import { baseEmoji, reactionKey } from '@reactometer/shared';
import { reactionEventPayload, signSlackBody } from '@reactometer/shared/testing';
import { createCommand, listOption, numberOption, runCli } from '@reactometer/cli';
import {
  cpuMs,
  createHistogram,
  latencySummary,
  recordMicros,
  REPO_ROOT,
  rssBytes,
  spawnManaged,
  type LatencySummary,
} from '@reactometer/devkit';
import {
  ensureDropletBuild,
  LOAD_RUN_PER_ADDRESS_CAP,
  startDropletProcess,
  type DropletProcess,
} from '@reactometer/devkit/droplet';
import {
  runPostgresSql,
  startFerretDb,
  type FerretDbBackend,
  type FerretDbProcess,
} from '@reactometer/devkit/ferretdb';

import { REACTION_STATES, toStateDoc, type StateDoc } from '../src/mongo-reaction-store.js';

const PHASES = ['startup', 'ack', 'ceiling', 'states', 'broadcast'] as const;
type Phase = (typeof PHASES)[number];

interface Flags {
  readonly phases?: string[];
  readonly backends?: string[];
  readonly rate?: number;
  readonly seconds?: number;
  readonly clients?: number[];
  readonly updates?: number;
  readonly rounds?: number;
  readonly states?: number[];
  readonly quick?: boolean;
}

const program = createCommand(
  'npm run bench -w legacy-server',
  'Droplet benchmarks: start-up and idle RSS (build vs tsx), Slack-event latency and CPU per event and the ingest ceiling (FerretDB on SQLite vs PostgreSQL), broadcast delivery (droplet vs a naive ws server). Prints figures, asserts nothing.',
)
  .option('--phases <list>', `phases to run (default all: ${PHASES.join(',')})`, listOption(String))
  .option(
    '--backends <list>',
    'FerretDB backends for ack and ceiling (default sqlite,postgresql; broadcast and startup use postgresql)',
    listOption(String),
  )
  .option('--rate <n>', 'ack: Slack events per second (default 20)', numberOption({ above: 0 }))
  .option(
    '--seconds <n>',
    'ack: seconds of events (default 20; quick 3)',
    numberOption({ above: 0 }),
  )
  .option(
    '--clients <list>',
    'broadcast: client counts (default 1000,10000; quick 200)',
    listOption(numberOption({ integer: true, min: 1 })),
  )
  .option(
    '--updates <n>',
    'broadcast: updates per client count and server (default 20; quick 5)',
    numberOption({ integer: true, min: 1 }),
  )
  .option(
    '--rounds <n>',
    'alternating rounds for startup and broadcast (default 3 and 2; quick 1)',
    numberOption({ integer: true, min: 1 }),
  )
  .option(
    '--states <list>',
    'states: stored reaction states to measure at (default 1000,10000,100000; quick 1000,10000)',
    listOption(numberOption({ integer: true, min: 1 })),
  )
  .option('--quick', 'a short run: startup, ack on PostgreSQL, broadcast at 200 clients');

const SECRET = 'bench-signing-secret';
const RUN = Date.now().toString(36);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const round1 = (n: number): number => Math.round(n * 10) / 10;
const round2 = (n: number): number => Math.round(n * 100) / 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let eventSeq = 0;
function signedEvent(emoji: string, user: string) {
  eventSeq++;
  const nowS = Math.floor(Date.now() / 1000);
  const body = reactionEventPayload({
    eventId: `Ev${RUN}${eventSeq}`,
    type: 'reaction_added',
    user,
    reaction: emoji,
    eventTs: `${nowS}.${String(eventSeq % 1_000_000).padStart(6, '0')}`,
    item: { type: 'message', channel: 'CBENCH', ts: '1700000000.000100' },
  });
  return signSlackBody(SECRET, body, nowS);
}

async function postEvent(httpUrl: string, emoji: string, user: string): Promise<number> {
  const req = signedEvent(emoji, user);
  const res = await fetch(`${httpUrl}/slack/events`, {
    method: 'POST',
    body: new Uint8Array(req.body),
    headers: req.headers,
  });
  await res.arrayBuffer();
  return res.status;
}

/** Waits until the droplet's `/healthz` reports its inbox empty (every stored event counted). */
async function inboxDrained(httpUrl: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${httpUrl}/healthz`);
    const body = (await res.json()) as { inbox?: { pending?: number } };
    if ((body.inbox?.pending ?? 0) === 0) return;
    if (Date.now() > deadline) throw new Error(`the inbox did not drain within ${timeoutMs} ms`);
    await sleep(20);
  }
}

async function warm(httpUrl: string): Promise<void> {
  // The JIT, the connection pools and FerretDB's tables.
  for (let i = 0; i < 50; i++) await postEvent(httpUrl, `warm_${RUN}`, `W${eventSeq}`);
}

async function withDatabase<T>(
  backend: FerretDbBackend,
  fn: (db: FerretDbProcess) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'reactometer-bench-'));
  const db = await startFerretDb({ dataDir, backend });
  try {
    return await fn(db);
  } finally {
    await db.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function dropletEnv(db: FerretDbProcess, extra: Record<string, string> = {}) {
  return {
    MONGODB_URI: db.uri,
    MONGODB_DB: `bench_${RUN}`,
    SLACK_SIGNING_SECRET: SECRET,
    LOG_LEVEL: 'warn',
    // The broadcast phase's clients share a few 127.0.0.x addresses.
    WS_MAX_CONNECTIONS_PER_ADDRESS: String(LOAD_RUN_PER_ADDRESS_CAP),
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// startup

interface StartupSample {
  readonly runtime: 'built' | 'tsx';
  readonly startupMs: number;
  readonly idleRssMiB: number;
}

async function startupOnce(db: FerretDbProcess, runtime: 'built' | 'tsx'): Promise<StartupSample> {
  let listeningAt: number | undefined;
  const droplet = await startDropletProcess({
    env: dropletEnv(db, { LOG_LEVEL: 'info' }),
    runtime,
    onLogLine: (line) => {
      if (!line.includes('"msg":"listening"')) return;
      listeningAt = (JSON.parse(line) as { time: number }).time;
    },
  });
  try {
    for (let i = 0; i < 100 && listeningAt === undefined; i++) await sleep(10);
    await sleep(3000); // idle: start-up garbage collected, nothing connected
    return {
      runtime,
      startupMs: (listeningAt ?? Date.now()) - droplet.spawnedAt,
      idleRssMiB: round1(rssBytes(droplet.pid) / 1048576),
    };
  } finally {
    await droplet.stop();
  }
}

async function startupPhase(rounds: number) {
  ensureDropletBuild(); // outside the timed spawns
  return withDatabase('postgresql', async (db) => {
    const samples: StartupSample[] = [];
    for (let r = 0; r < rounds; r++) {
      const order: ('built' | 'tsx')[] = r % 2 === 0 ? ['tsx', 'built'] : ['built', 'tsx'];
      for (const runtime of order) samples.push(await startupOnce(db, runtime));
    }
    const median = (xs: number[]): number => {
      const s = [...xs].sort((a, b) => a - b);
      return s[Math.floor(s.length / 2)] ?? 0;
    };
    const of = (runtime: 'built' | 'tsx') => {
      const mine = samples.filter((s) => s.runtime === runtime);
      return {
        startupMs: median(mine.map((s) => s.startupMs)),
        idleRssMiB: median(mine.map((s) => s.idleRssMiB)),
      };
    };
    const tsx = of('tsx');
    const built = of('built');
    console.table([
      {
        runtime: 'tsx (before)',
        'start-up ms (median)': tsx.startupMs,
        'idle RSS MiB': tsx.idleRssMiB,
      },
      {
        runtime: 'built (after)',
        'start-up ms (median)': built.startupMs,
        'idle RSS MiB': built.idleRssMiB,
      },
    ]);
    console.log(
      `  built/tsx: start-up ${round2(built.startupMs / tsx.startupMs)}x, idle RSS ${round2(built.idleRssMiB / tsx.idleRssMiB)}x (${rounds} alternating rounds)`,
    );
    return { rounds, samples, tsx, built };
  });
}

// ---------------------------------------------------------------------------------------------
// ack and ceiling

interface RateRun {
  readonly rate: number;
  readonly sent: number;
  readonly errors: number;
  readonly achievedRate: number;
  readonly summary: LatencySummary;
  readonly cpuMsPerEvent: { droplet: number; ferretdb: number; postgresql: number | null };
}

/** `rate` events/s for `seconds`, open loop, with the CPU each process spent. */
async function runAtRate(
  droplet: DropletProcess,
  db: FerretDbProcess,
  rate: number,
  seconds: number,
): Promise<RateRun> {
  const ferretPid = db.pid();
  const postgresPids = (): number[] => db.pids().filter((p) => p !== ferretPid);
  const pgCpu = (): number => postgresPids().reduce((n, p) => n + cpuMs(p), 0);
  const before = {
    droplet: cpuMs(droplet.pid),
    ferretdb: ferretPid === undefined ? 0 : cpuMs(ferretPid),
    postgresql: pgCpu(),
  };
  const hist = createHistogram();
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const start = performance.now();
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = start + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      postEvent(droplet.httpUrl, `ack_${RUN}_${rate}_${i % 50}`, `U${i}`).then(
        (status) => {
          if (status !== 200) errors++;
          recordMicros(hist, (performance.now() - scheduled) * 1000);
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  // The answer only says "stored": the counting happens after it, and its CPU belongs to the event.
  await inboxDrained(droplet.httpUrl);
  const perEvent = (ms: number): number => round2(ms / total);
  return {
    rate,
    sent: total,
    errors,
    achievedRate: Math.round((total / elapsed) * 10) / 10,
    summary: latencySummary(hist),
    cpuMsPerEvent: {
      droplet: perEvent(cpuMs(droplet.pid) - before.droplet),
      ferretdb: perEvent((ferretPid === undefined ? 0 : cpuMs(ferretPid)) - before.ferretdb),
      // Backends that exit between the samples are missed (FerretDB keeps a pool open, so few).
      postgresql: db.backend === 'postgresql' ? perEvent(pgCpu() - before.postgresql) : null,
    },
  };
}

async function ackPhase(backends: FerretDbBackend[], rate: number, seconds: number) {
  const out: Record<string, RateRun> = {};
  for (const backend of backends) {
    out[backend] = await withDatabase(backend, async (db) => {
      const droplet = await startDropletProcess({ env: dropletEnv(db) });
      try {
        await warm(droplet.httpUrl);
        return await runAtRate(droplet, db, rate, seconds);
      } finally {
        await droplet.stop();
      }
    });
  }
  console.table(
    Object.entries(out).map(([backend, r]) => ({
      backend,
      'rate/s': r.achievedRate,
      sent: r.sent,
      errors: r.errors,
      'p50 ms': r.summary.p50Ms,
      'p99 ms': r.summary.p99Ms,
      'CPU ms/event droplet': r.cpuMsPerEvent.droplet,
      'CPU ms/event FerretDB': r.cpuMsPerEvent.ferretdb,
      'CPU ms/event PostgreSQL': r.cpuMsPerEvent.postgresql ?? 'n/a',
    })),
  );
  return out;
}

const CEILING_RATES = [25, 50, 75, 100, 150, 200, 300, 400];
const CEILING_SECONDS = 5;

async function ceilingPhase(backends: FerretDbBackend[]) {
  const out: Record<string, { ceiling: number; steps: RateRun[] }> = {};
  for (const backend of backends) {
    out[backend] = await withDatabase(backend, async (db) => {
      const droplet = await startDropletProcess({ env: dropletEnv(db) });
      const steps: RateRun[] = [];
      let ceiling = 0;
      try {
        await warm(droplet.httpUrl);
        for (const rate of CEILING_RATES) {
          const r = await runAtRate(droplet, db, rate, CEILING_SECONDS);
          steps.push(r);
          const held = r.errors === 0 && r.achievedRate >= 0.95 * rate && r.summary.p99Ms < 1000;
          console.log(
            `  ${backend} ${rate}/s: achieved ${r.achievedRate}/s, p99 ${r.summary.p99Ms} ms, errors ${r.errors}${held ? '' : '  <- not sustained'}`,
          );
          if (!held) break;
          ceiling = rate;
          await sleep(2000); // let the backlog of one step drain before the next
        }
      } finally {
        await droplet.stop();
      }
      return { ceiling, steps };
    });
  }
  console.table(
    Object.entries(out).map(([backend, r]) => ({
      backend,
      'ingest ceiling events/s': r.ceiling,
      'tested up to': r.steps.at(-1)?.rate,
    })),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// states

const SEED_EMOJIS = 50;

/** Adds seeded states (present, on `SEED_EMOJIS` emojis) until the collection holds `target`. */
async function seedStates(db: FerretDbProcess, dbName: string, from: number, target: number) {
  const client = new MongoClient(db.uri);
  try {
    const states = client.db(dbName).collection<StateDoc>(REACTION_STATES);
    for (let i = from; i < target; i += 1000) {
      const docs = [];
      for (let j = i; j < Math.min(target, i + 1000); j++) {
        const ref = {
          team: 'T0REACTOM',
          item: `message:CSEED:1700000000.${String(j % 1000).padStart(6, '0')}`,
          user: `USEED${j}`,
          reaction: `seed_${j % SEED_EMOJIS}`,
        };
        docs.push(
          toStateDoc({
            key: reactionKey(ref),
            ref,
            baseEmoji: baseEmoji(ref.reaction),
            present: true,
            eventTs: '001700000000.000001',
            rev: 2,
            pending: null,
          }),
        );
      }
      await states.insertMany(docs, { ordered: false });
    }
  } finally {
    await client.close();
  }
}

async function statesPhase(steps: number[], rate: number, seconds: number) {
  return withDatabase('postgresql', async (db) => {
    const queued = { hist: createHistogram() };
    const droplet = await startDropletProcess({
      env: dropletEnv(db, { LOG_LEVEL: 'debug' }),
      onLogLine: (line) => {
        if (!line.includes('"msg":"inbox event applied"')) return;
        const { queuedMs } = JSON.parse(line) as { queuedMs?: number };
        if (typeof queuedMs === 'number') recordMicros(queued.hist, queuedMs * 1000);
      },
    });
    const rows: {
      states: number;
      run: RateRun;
      cpuMsPerEvent: number;
      counted: LatencySummary;
    }[] = [];
    try {
      // Longer than the other phases' warm-up: the first size must not pay for the JIT of the
      // worker's path, or the later sizes look cheaper than they are.
      for (let i = 0; i < 6; i++) await warm(droplet.httpUrl);
      await inboxDrained(droplet.httpUrl);
      let seeded = 0;
      for (const target of [...steps].sort((a, b) => a - b)) {
        const t0 = performance.now();
        await seedStates(db, `bench_${RUN}`, seeded, target);
        console.log(
          `  seeded ${target - seeded} states in ${Math.round(performance.now() - t0)} ms`,
        );
        seeded = target;
        // What autovacuum would do after a bulk load, done now: the step measures the event
        // path at that size, not the load's aftermath competing for the same CPU.
        if (db.postgresUrl !== undefined) runPostgresSql(db.postgresUrl, 'VACUUM ANALYZE');
        queued.hist = createHistogram();
        const run = await runAtRate(droplet, db, rate, seconds);
        const cpu = run.cpuMsPerEvent;
        rows.push({
          states: target,
          run,
          cpuMsPerEvent: round2(cpu.droplet + cpu.ferretdb + (cpu.postgresql ?? 0)),
          counted: latencySummary(queued.hist),
        });
      }
    } finally {
      await droplet.stop();
    }
    const first = rows[0]!;
    console.table(
      rows.map((r) => ({
        'stored states': r.states,
        'rate/s': r.run.achievedRate,
        errors: r.run.errors,
        'CPU ms/event (all)': r.cpuMsPerEvent,
        'ack p50 ms': r.run.summary.p50Ms,
        'ack p99 ms': r.run.summary.p99Ms,
        'stored->counted p50 ms': r.counted.p50Ms,
        'stored->counted p99 ms': r.counted.p99Ms,
        'CPU x smallest': round2(r.cpuMsPerEvent / first.cpuMsPerEvent),
        'counted p50 x smallest': round2(r.counted.p50Ms / Math.max(first.counted.p50Ms, 0.001)),
      })),
    );
    return rows;
  });
}

// ---------------------------------------------------------------------------------------------
// broadcast

type WorkerMsg =
  | { op: 'ready' }
  | { op: 'connected'; opened: number }
  | { op: 'got'; count: number }
  | { op: 'collected'; arrivals: Record<string, number[]> }
  | { op: 'closed' }
  | { op: 'error'; message: string };

class ClientWorkers {
  private readonly workers: ChildProcess[] = [];
  private listeners: ((w: number, m: WorkerMsg) => void)[] = [];

  static async start(count: number): Promise<ClientWorkers> {
    const pool = new ClientWorkers();
    for (let i = 0; i < count; i++) {
      const child = fork(path.join(HERE, 'client-worker.mjs'), [], {
        execArgv: [],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      const index = i;
      child.on('message', (m: WorkerMsg) => {
        if (m.op === 'error') console.error(`  client worker ${index}: ${m.message}`);
        for (const l of pool.listeners) l(index, m);
      });
      pool.workers.push(child);
    }
    await pool.waitAll('ready', 30_000);
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  send(index: number, msg: Record<string, unknown>): void {
    this.workers[index]!.send(msg);
  }

  /** Resolves once every worker has sent `op` (matching `where`), or rejects after `timeoutMs`. */
  waitAll(op: WorkerMsg['op'], timeoutMs: number, where: (m: WorkerMsg) => boolean = () => true) {
    return new Promise<WorkerMsg[]>((resolve, reject) => {
      const got = new Map<number, WorkerMsg>();
      const listener = (w: number, m: WorkerMsg): void => {
        if (m.op !== op || !where(m)) return;
        got.set(w, m);
        if (got.size === this.workers.length) done(null);
      };
      const timer = setTimeout(
        () => done(new Error(`client workers: no ${op} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = (err: Error | null): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        if (err) reject(err);
        else resolve([...got.values()]);
      };
      this.listeners.push(listener);
    });
  }

  async stop(): Promise<void> {
    for (const w of this.workers) w.kill('SIGKILL');
  }
}

interface BroadcastRun {
  readonly server: 'droplet' | 'naive';
  readonly clients: number;
  readonly latenciesMs: number[];
  readonly missed: number;
  readonly serverCpuMsPerUpdate: number;
}

interface Server {
  readonly pid: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  stop(): Promise<void>;
}

async function startNaive(): Promise<Server> {
  const proc = spawnManaged(process.execPath, [path.join(HERE, 'naive-broadcaster.mjs')], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
    group: false,
    graceMs: 10_000,
  });
  const port = await new Promise<number>((resolve, reject) => {
    const rl = createInterface({ input: proc.child.stdout! });
    rl.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    void proc.exited.then(() => reject(new Error('naive broadcaster exited')));
  });
  return {
    pid: proc.pid,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    stop: () => proc.stop(),
  };
}

async function broadcastOnce(
  server: Server,
  kind: 'droplet' | 'naive',
  n: number,
  updates: number,
  workers: ClientWorkers,
): Promise<BroadcastRun> {
  const emoji = `fan_${RUN}_${kind}_${n}_${Math.random().toString(36).slice(2, 8)}`;
  const per = Math.ceil(n / workers.size);
  let assigned = 0;
  for (let w = 0; w < workers.size; w++) {
    const share = Math.min(per, n - assigned);
    assigned += share;
    workers.send(w, {
      op: 'connect',
      url: server.wsUrl,
      n: share,
      localAddress: `127.0.0.${10 + w}`,
      emoji,
    });
  }
  await workers.waitAll('connected', 120_000);
  await sleep(1000);

  const sentAt = new Map<number, number>();
  let missedUpdates = 0;
  const cpuBefore = cpuMs(server.pid);
  for (let i = 1; i <= updates; i++) {
    const all = workers.waitAll('got', 15_000, (m) => m.op === 'got' && m.count === i);
    sentAt.set(i, performance.timeOrigin + performance.now());
    const status = await postEvent(server.httpUrl, emoji, `U${i}`);
    if (status !== 200) throw new Error(`${kind}: event POST answered ${status}`);
    await all.catch(() => {
      missedUpdates++;
    });
    await sleep(100);
  }
  const cpuAfter = cpuMs(server.pid);
  for (let w = 0; w < workers.size; w++) workers.send(w, { op: 'collect' });
  const collected = (await workers.waitAll('collected', 30_000)) as Extract<
    WorkerMsg,
    { op: 'collected' }
  >[];
  const latenciesMs: number[] = [];
  let received = 0;
  for (const c of collected) {
    for (const [count, times] of Object.entries(c.arrivals)) {
      const t0 = sentAt.get(Number(count));
      if (t0 === undefined) continue;
      for (const t of times) latenciesMs.push(t - t0);
      received += times.length;
    }
  }
  for (let w = 0; w < workers.size; w++) workers.send(w, { op: 'close' });
  await workers.waitAll('closed', 60_000);
  if (missedUpdates > 0) console.log(`  ${kind}: ${missedUpdates} updates not complete in 15 s`);
  return {
    server: kind,
    clients: n,
    latenciesMs,
    missed: n * updates - received,
    serverCpuMsPerUpdate: round1((cpuAfter - cpuBefore) / updates),
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return round1(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
}

async function broadcastPhase(clientSteps: number[], updates: number, rounds: number) {
  const rows: Record<string, unknown>[] = [];
  const raw: Record<string, unknown>[] = [];
  await withDatabase('postgresql', async (db) => {
    for (const n of clientSteps) {
      const workers = await ClientWorkers.start(Math.min(4, Math.ceil(n / 2500)));
      const runs: BroadcastRun[] = [];
      try {
        for (let r = 0; r < rounds; r++) {
          const order: ('droplet' | 'naive')[] =
            r % 2 === 0 ? ['naive', 'droplet'] : ['droplet', 'naive'];
          for (const kind of order) {
            // A fresh server per run: nothing (RSS, backlog) carries over between them.
            const server: Server =
              kind === 'naive'
                ? await startNaive()
                : await startDropletProcess({
                    env: dropletEnv(db, {
                      WS_MAX_CONNECTIONS: String(n + 100),
                      BROADCAST_WINDOW_MS: '0',
                    }),
                  });
            try {
              if (kind === 'droplet') await warm(server.httpUrl);
              const run = await broadcastOnce(server, kind, n, updates, workers);
              runs.push(run);
              const s = [...run.latenciesMs].sort((a, b) => a - b);
              console.log(
                `  ${n} clients, round ${r + 1}, ${kind}: p50 ${percentile(s, 50)} ms, p99 ${percentile(s, 99)} ms, missed ${run.missed}`,
              );
            } finally {
              await server.stop();
            }
          }
        }
      } finally {
        await workers.stop();
      }
      const of = (kind: 'droplet' | 'naive') => {
        const mine = runs.filter((r) => r.server === kind);
        const s = mine.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
        return {
          p50: percentile(s, 50),
          p99: percentile(s, 99),
          missed: mine.reduce((m, r) => m + r.missed, 0),
          cpu: round1(mine.reduce((m, r) => m + r.serverCpuMsPerUpdate, 0) / mine.length),
        };
      };
      const d = of('droplet');
      const nv = of('naive');
      rows.push({
        clients: n,
        'droplet p50 ms': d.p50,
        'droplet p99 ms': d.p99,
        'naive p50 ms': nv.p50,
        'naive p99 ms': nv.p99,
        'p50 ratio droplet/naive': round2(d.p50 / nv.p50),
        'p99 ratio droplet/naive': round2(d.p99 / nv.p99),
        'missed droplet/naive': `${d.missed}/${nv.missed}`,
        'server CPU ms/update droplet/naive': `${d.cpu}/${nv.cpu}`,
      });
      raw.push({ clients: n, droplet: d, naive: nv, rounds });
    }
  });
  console.table(rows);
  return raw;
}

// ---------------------------------------------------------------------------------------------

await runCli<Flags>(program, async (flags) => {
  const quick = flags.quick === true;
  const phases = (flags.phases ?? (quick ? ['startup', 'ack', 'broadcast'] : PHASES)) as Phase[];
  for (const p of phases) {
    if (!PHASES.includes(p)) throw new Error(`--phases: unknown phase ${p} (${PHASES.join(', ')})`);
  }
  const backends = (flags.backends ??
    (quick ? ['postgresql'] : ['sqlite', 'postgresql'])) as FerretDbBackend[];
  for (const b of backends) {
    if (b !== 'sqlite' && b !== 'postgresql') throw new Error(`--backends: unknown backend ${b}`);
  }
  const rate = flags.rate ?? 20;
  const seconds = flags.seconds ?? (quick ? 3 : 20);
  const clients = flags.clients ?? (quick ? [200] : [1000, 10000]);
  const updates = flags.updates ?? (quick ? 5 : 20);
  const results: Record<string, unknown> = {};
  console.log(`${os.cpus().length} cores; phases ${phases.join(', ')}`);

  if (phases.includes('startup')) {
    const rounds = flags.rounds ?? (quick ? 1 : 3);
    console.log(`\n[startup] build vs tsx, ${rounds} alternating rounds (FerretDB on PostgreSQL)`);
    results.startup = await startupPhase(rounds);
  }
  if (phases.includes('ack')) {
    console.log(
      `\n[ack] Slack-event acknowledgement at ${rate}/s for ${seconds} s (open loop), per backend`,
    );
    results.ack = await ackPhase(backends, rate, seconds);
  }
  if (phases.includes('ceiling')) {
    console.log(`\n[ceiling] rising rates, ${CEILING_SECONDS} s each, per backend`);
    results.ceiling = await ceilingPhase(backends);
  }
  if (phases.includes('states')) {
    const steps = flags.states ?? (quick ? [1000, 10000] : [1000, 10000, 100000]);
    console.log(
      `\n[states] cost per event at ${steps.join(', ')} stored states, ${rate}/s for ${seconds} s each (FerretDB on PostgreSQL)`,
    );
    results.states = await statesPhase(steps, rate, seconds);
  }
  if (phases.includes('broadcast')) {
    const rounds = flags.rounds ?? (quick ? 1 : 2);
    console.log(
      `\n[broadcast] POST -> receipt, droplet vs naive ws server, ${updates} updates, ${rounds} alternating rounds`,
    );
    results.broadcast = await broadcastPhase(clients, updates, rounds);
  }

  const out = path.join(REPO_ROOT, 'test-artifacts', 'bench');
  mkdirSync(out, { recursive: true });
  const file = path.join(out, 'legacy-server.json');
  writeFileSync(
    file,
    JSON.stringify(
      {
        measuredAt: new Date().toISOString(),
        machine: { cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
        params: { phases, backends, rate, seconds, clients, updates },
        ...results,
      },
      (key, value: unknown) => (key === 'latenciesMs' || key === 'samples' ? undefined : value),
      2,
    ),
  );
  console.log(`\nraw figures: ${path.relative(REPO_ROOT, file)}`);
});
