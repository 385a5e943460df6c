/**
 * One process of the broadcast benchmark's dashboards (forked by run-bench.ts, plain node): holds
 * its share of the sockets, bound to its own 127.0.0.x source address, and records when each
 * update arrives (epoch ms with sub-ms precision, comparable across processes on one machine).
 * Spreading clients over processes keeps one process's time to read 10,000 frames out of the
 * measured latency, and the open-file limit (20,000 a process here) out of the way.
 *
 * Messages from the parent: {op:'connect', url, n, localAddress}, {op:'collect'}, {op:'close'}.
 * To the parent: {op:'ready'}, {op:'connected', opened}, {op:'got', count} once every socket has
 * that count, {op:'collected', arrivals: {count: number[]}}, {op:'closed'}.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const now = () => performance.timeOrigin + performance.now();
let sockets = [];
let pattern = null;
/** count -> arrival times */
const arrivals = new Map();

function onMessage(data) {
  const m = pattern?.exec(data.toString());
  if (!m) return;
  const count = Number(m[1]);
  let list = arrivals.get(count);
  if (list === undefined) arrivals.set(count, (list = []));
  list.push(now());
  if (list.length === sockets.length) process.send({ op: 'got', count });
}

async function connect({ url, n, localAddress, emoji }) {
  pattern = new RegExp(`"emoji":"${emoji}","count":(\\d+)`);
  arrivals.clear();
  const BATCH = 250;
  for (let i = 0; i < n; i += BATCH) {
    const batch = Array.from(
      { length: Math.min(BATCH, n - i) },
      () =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(url, { perMessageDeflate: false, localAddress });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
          ws.on('message', onMessage);
        }),
    );
    sockets.push(...(await Promise.all(batch)));
  }
  process.send({ op: 'connected', opened: sockets.length });
}

async function close() {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise((resolve) => {
          ws.once('close', resolve);
          ws.close();
          setTimeout(() => {
            ws.terminate();
            resolve();
          }, 5000).unref();
        }),
    ),
  );
  sockets = [];
  process.send({ op: 'closed' });
}

process.on('message', (msg) => {
  if (msg.op === 'connect')
    connect(msg).catch((err) => process.send({ op: 'error', message: String(err) }));
  else if (msg.op === 'collect')
    process.send({ op: 'collected', arrivals: Object.fromEntries(arrivals) });
  else if (msg.op === 'close') void close();
});
process.on('disconnect', () => process.exit(0));
process.send({ op: 'ready' });
