/**
 * The yardstick for the droplet's broadcast (issue 10): the naive `ws` server anyone would write.
 * No database, no verification: POST /slack/events bumps an in-memory count for the event's
 * emoji and sends the update to every client, `JSON.stringify` once and `ws.send` per client.
 * Plain JavaScript, run by plain node, so the comparison is between broadcasts, not loaders.
 *
 *   PORT=0 node naive-broadcaster.mjs   -> prints {"port": N} on stdout once listening
 */
import http from 'node:http';
import { WebSocketServer } from 'ws';

const counts = new Map();
let version = 0;
const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/slack/events') return res.writeHead(404).end();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const emoji = JSON.parse(Buffer.concat(chunks).toString('utf8')).event.reaction;
    const count = (counts.get(emoji) ?? 0) + 1;
    counts.set(emoji, count);
    const text = JSON.stringify({
      type: 'update',
      reactions: [{ emoji, count, version: ++version }],
    });
    for (const ws of wss.clients) if (ws.readyState === ws.OPEN) ws.send(text);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
  });
});
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate();
  server.close(() => process.exit(0));
});
