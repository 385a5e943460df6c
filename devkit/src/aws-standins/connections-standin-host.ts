/**
 * Runs the @connections stand-in in a process of its own (forked by
 * `startConnectionsStandinProcess`), so that a benchmark of a sender measures the sender's CPU,
 * not the stand-in's. IPC: `{ op, id, ... }` requests, each answered `{ op, id, result | error }`;
 * `{ op: 'ready', endpoint }` once listening.
 */
import { startConnectionsStandin, type ConnectionsStandinOptions } from './connections-standin.js';
import type { StandinRequest } from './connections-standin-process.js';

const options = JSON.parse(
  process.env.REACTOMETER_STANDIN_OPTIONS ?? '{}',
) as ConnectionsStandinOptions;
const standin = await startConnectionsStandin(options);

async function handle(req: StandinRequest): Promise<unknown> {
  switch (req.op) {
    case 'addConnections':
      standin.addConnections(req.ids);
      return null;
    case 'removeConnections':
      standin.removeConnections(req.ids);
      return null;
    case 'setLatency':
      standin.setLatency(req.latency);
      return null;
    case 'setRateLimit':
      standin.setRateLimit(req.limit);
      return null;
    case 'stats':
      return standin.stats();
    case 'deliveryTimes':
      return standin.deliveryTimes();
    case 'resetCounts':
      standin.resetCounts();
      return null;
    case 'stop':
      await standin.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (req: StandinRequest) => {
  handle(req).then(
    (result) => process.send?.({ op: req.op, id: req.id, result }),
    (err: unknown) => process.send?.({ op: req.op, id: req.id, error: String(err) }),
  );
});
// The parent going away must not leave a listening server behind.
process.on('disconnect', () => void standin.close().finally(() => process.exit(0)));
process.send?.({ op: 'ready', endpoint: standin.endpoint, port: standin.port });
