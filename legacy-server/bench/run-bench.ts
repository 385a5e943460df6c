/**
 * Droplet benchmarks (`npm run bench -w legacy-server`): prints figures, asserts nothing.
 *
 *   1. Slack-event acknowledgement latency at a steady rate (open loop: latency is measured from
 *      each request's scheduled send time, so a stalled server cannot hide queueing).
 *   2. Broadcast delivery latency, event POST -> receipt by every connected client, at each
 *      client count (1,000 and 10,000 by default).
 *   3. Server memory per connected idle client (RSS delta / clients).
 *
 * The droplet and FerretDB run as their own processes on this machine; the clients run in this
 * process, so at 10,000 clients part of the measured delivery latency is this process's own
 * time to read 10,000 frames (the machine has 2 cores shared by all three).
 *
 * Env BENCH_NODE_FLAGS passes flags to the droplet process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
 *
 * Flags: see `--help`.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { reactionEventPayload, signSlackBody } from '@reactometer/shared/testing';
import { createCommand, listOption, numberOption, runCli } from '@reactometer/cli';
import {
  cpuMs,
  createHistogram,
  latencySummary,
  recordMicros,
  REPO_ROOT,
  rssBytes,
  type LatencySummary,
} from '@reactometer/devkit';
import { startDropletProcess } from '@reactometer/devkit/droplet';
import { startFerretDb } from '@reactometer/devkit/ferretdb';

interface Flags {
  readonly rate?: number;
  readonly seconds?: number;
  readonly clients?: number[];
  readonly updates?: number;
  readonly quick?: boolean;
}

const program = createCommand(
  'npm run bench -w legacy-server',
  'Droplet benchmarks: Slack-event acknowledgement latency, broadcast delivery latency and memory per client. Prints figures, asserts nothing.',
)
  .option(
    '--rate <n>',
    'Slack events per second (default 25; quick 20)',
    numberOption({ above: 0 }),
  )
  .option(
    '--seconds <n>',
    'seconds of Slack events (default 10; quick 3)',
    numberOption({ above: 0 }),
  )
  .option(
    '--clients <list>',
    'client counts for the broadcast (default 1000,10000; quick 200)',
    listOption(numberOption({ integer: true, min: 1 })),
  )
  .option(
    '--updates <n>',
    'updates per client count (default 20; quick 5)',
    numberOption({ integer: true, min: 1 }),
  )
  .option('--quick', 'a short run (rate 20, 3 s, 200 clients, 5 updates)');

let RATE = 25;
let SECONDS = 10;
let CLIENT_STEPS: number[] = [1000, 10000];
let UPDATES = 20;
const SECRET = 'bench-signing-secret';
const RUN = Date.now().toString(36);

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
    body: req.body,
    headers: req.headers,
  });
  await res.arrayBuffer();
  return res.status;
}

async function ackLatency(
  httpUrl: string,
  pids: { droplet: number; db: number | undefined },
): Promise<{
  summary: LatencySummary;
  errors: number;
  sent: number;
  achievedRate: number;
  dropletCpuMsPerEvent: number;
  dbCpuMsPerEvent: number | null;
}> {
  const cpuBefore = {
    droplet: cpuMs(pids.droplet),
    db: pids.db === undefined ? null : cpuMs(pids.db),
  };
  const hist = createHistogram();
  const total = RATE * SECONDS;
  const interval = 1000 / RATE;
  const start = performance.now();
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = start + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      postEvent(httpUrl, `ack_${RUN}_${i % 50}`, `U${i}`).then(
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
  const perEvent = (ms: number) => Math.round((ms / total) * 100) / 100;
  return {
    summary: latencySummary(hist),
    errors,
    sent: total,
    achievedRate: Math.round(total / elapsed),
    // Where an event's CPU goes: the droplet's own code vs the database (FerretDB on SQLite here).
    dropletCpuMsPerEvent: perEvent(cpuMs(pids.droplet) - cpuBefore.droplet),
    dbCpuMsPerEvent:
      pids.db === undefined || cpuBefore.db === null
        ? null
        : perEvent(cpuMs(pids.db) - cpuBefore.db),
  };
}

async function connectClients(
  wsUrl: string,
  n: number,
  onMessage: (data: string) => void,
): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  const BATCH = 250;
  for (let i = 0; i < n; i += BATCH) {
    const batch = Array.from(
      { length: Math.min(BATCH, n - i) },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
          ws.on('message', (data) => onMessage(data.toString()));
        }),
    );
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

interface BroadcastResult {
  clients: number;
  connectSeconds: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  bytesPerClient: number;
  delivery: LatencySummary;
  missed: number;
  lastClientMs: LatencySummary;
  serverCpuMsPerUpdate: number;
}

async function broadcast(
  droplet: { pid: number; httpUrl: string; wsUrl: string },
  n: number,
): Promise<BroadcastResult> {
  const emoji = `fan_${RUN}_${n}`;
  const sentAt = new Map<number, number>();
  const received = new Map<number, number>();
  const hist = createHistogram();
  const lastClient = createHistogram();
  const lastAt = new Map<number, number>();
  const pattern = new RegExp(`"emoji":"${emoji}","count":(\\d+)`);

  const onMessage = (data: string) => {
    const m = pattern.exec(data);
    if (!m?.[1]) return;
    const count = Number(m[1]);
    const t0 = sentAt.get(count);
    if (t0 === undefined) return;
    const now = performance.now();
    recordMicros(hist, (now - t0) * 1000);
    received.set(count, (received.get(count) ?? 0) + 1);
    lastAt.set(count, now);
  };

  global.gc?.();
  await new Promise((r) => setTimeout(r, 1000));
  const rssBefore = rssBytes(droplet.pid);
  const connectStart = performance.now();
  const sockets = await connectClients(droplet.wsUrl, n, onMessage);
  const connectSeconds = (performance.now() - connectStart) / 1000;
  await new Promise((r) => setTimeout(r, 2000));
  const rssAfter = rssBytes(droplet.pid);

  const cpuBefore = cpuMs(droplet.pid);
  for (let i = 1; i <= UPDATES; i++) {
    sentAt.set(i, performance.now());
    const status = await postEvent(droplet.httpUrl, emoji, `U${i}`);
    if (status !== 200) throw new Error(`event POST answered ${status}`);
    const deadline = performance.now() + 15_000;
    while ((received.get(i) ?? 0) < n && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 2));
    const t0 = sentAt.get(i) as number;
    if (lastAt.has(i)) recordMicros(lastClient, ((lastAt.get(i) as number) - t0) * 1000);
    await new Promise((r) => setTimeout(r, 100));
  }
  const cpuAfter = cpuMs(droplet.pid);
  let missed = 0;
  for (let i = 1; i <= UPDATES; i++) missed += n - (received.get(i) ?? 0);

  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.once('close', () => resolve());
          ws.close();
          setTimeout(() => {
            ws.terminate();
            resolve();
          }, 5000).unref();
        }),
    ),
  );
  return {
    clients: n,
    connectSeconds: Math.round(connectSeconds * 100) / 100,
    rssBeforeMiB: Math.round(rssBefore / 1048576),
    rssAfterMiB: Math.round(rssAfter / 1048576),
    bytesPerClient: Math.round((rssAfter - rssBefore) / n),
    delivery: latencySummary(hist),
    missed,
    lastClientMs: latencySummary(lastClient),
    serverCpuMsPerUpdate: Math.round(((cpuAfter - cpuBefore) / UPDATES) * 10) / 10,
  };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'reactometer-bench-'));
  const db = await startFerretDb({ dataDir });
  // A fresh droplet process per phase and per client count: RSS never shrinks after clients
  // leave, and a backlog left by one phase would bias the next, so nothing carries over.
  const freshDroplet = async () =>
    startDropletProcess({
      env: {
        MONGODB_URI: db.uri,
        MONGODB_DB: `bench_${RUN}`,
        SLACK_SIGNING_SECRET: SECRET,
        LOG_LEVEL: 'warn',
        WS_MAX_CONNECTIONS: String(Math.max(...CLIENT_STEPS) + 100),
      },
    });
  const warm = async (httpUrl: string) => {
    // Warm up the JIT, the connection pools and FerretDB's tables.
    for (let i = 0; i < 50; i++) await postEvent(httpUrl, `warm_${RUN}`, `W${i}`);
  };
  try {
    console.log(`FerretDB on ${db.uri}; ${os.cpus().length} cores`);
    console.log(`\n[1/2] Slack-event acknowledgement: ${RATE}/s for ${SECONDS} s (open loop)`);
    const ackDroplet = await freshDroplet();
    let ack: Awaited<ReturnType<typeof ackLatency>>;
    try {
      await warm(ackDroplet.httpUrl);
      ack = await ackLatency(ackDroplet.httpUrl, { droplet: ackDroplet.pid, db: db.pid() });
    } finally {
      await ackDroplet.stop();
    }
    console.table([{ rate: ack.achievedRate, sent: ack.sent, errors: ack.errors, ...ack.summary }]);
    console.log(
      `  CPU per event: droplet ${ack.dropletCpuMsPerEvent} ms, FerretDB ${ack.dbCpuMsPerEvent ?? 'n/a'} ms`,
    );

    console.log(`\n[2/2] Broadcast delivery (POST -> receipt), ${UPDATES} updates per step`);
    const steps: BroadcastResult[] = [];
    for (const n of CLIENT_STEPS) {
      const droplet = await freshDroplet();
      try {
        await warm(droplet.httpUrl);
        const r = await broadcast(droplet, n);
        steps.push(r);
        console.log(
          `  ${n} clients: connected in ${r.connectSeconds} s, ${r.bytesPerClient} B RSS per client, p50 ${r.delivery.p50Ms} ms, p99 ${r.delivery.p99Ms} ms, missed ${r.missed}`,
        );
      } finally {
        await droplet.stop();
      }
    }
    console.table(
      steps.map((s) => ({
        clients: s.clients,
        'p50 ms': s.delivery.p50Ms,
        'p99 ms': s.delivery.p99Ms,
        'max ms': s.delivery.maxMs,
        'last client p50 ms': s.lastClientMs.p50Ms,
        missed: s.missed,
        'RSS before MiB': s.rssBeforeMiB,
        'RSS after MiB': s.rssAfterMiB,
        'bytes/client': s.bytesPerClient,
        'server CPU ms/update': s.serverCpuMsPerUpdate,
      })),
    );
    const out = path.join(REPO_ROOT, 'test-artifacts', 'bench');
    mkdirSync(out, { recursive: true });
    const file = path.join(out, 'legacy-server.json');
    writeFileSync(
      file,
      JSON.stringify(
        {
          measuredAt: new Date().toISOString(),
          machine: { cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
          params: { RATE, SECONDS, CLIENT_STEPS, UPDATES },
          ack,
          steps,
        },
        null,
        2,
      ),
    );
    console.log(`\nraw figures: ${path.relative(REPO_ROOT, file)}`);
  } finally {
    await db.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await runCli<Flags>(program, async (flags) => {
  const quick = flags.quick === true;
  // Default rate: well inside what FerretDB-on-SQLite sustains on 2 shared cores (~60 events/s
  // measured), so the figure is latency, not a queue; pass --rate to find the knee.
  RATE = flags.rate ?? (quick ? 20 : 25);
  SECONDS = flags.seconds ?? (quick ? 3 : 10);
  CLIENT_STEPS = flags.clients ?? (quick ? [200] : [1000, 10000]);
  UPDATES = flags.updates ?? (quick ? 5 : 20);
  await main();
});
