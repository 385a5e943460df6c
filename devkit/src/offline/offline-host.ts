/**
 * Runs the serverless offline stack (dynalite + serverless-offline + local SNS) in its own process,
 * forked by `startOfflineStackProcess` (offline-stack-process.ts), so that everything the stack runs (dynalite lives in the process that
 * starts it) is one process tree the runner can sample, apart from the runner's own work.
 *
 * IPC: sends `{ op: 'ready', httpUrl, wsUrl, dynamodbEndpoint }` once up; answers
 * `{ op: 'countConnections', id }` with the Connections table's item count; `{ op: 'stop' }` stops
 * the stack and exits.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, destroyDocumentClient } from '@reactometer/serverless';
import { startOfflineStack } from './offline-stack.js';

type HostRequest = { op: 'countConnections'; id: number } | { op: 'stop'; id: number };

const secret = process.env.REACTOMETER_SIGNING_SECRET;
if (!secret) throw new Error('REACTOMETER_SIGNING_SECRET: must be set by the runner');

const stack = await startOfflineStack({
  signingSecret: secret,
  logLevel: 'ERROR',
  readyTimeoutMs: 180_000,
});
const documents = createDocumentClient({ endpoint: stack.dynamodbEndpoint, region: stack.region });

/** Items in the Connections table (a full scan: dynalite is local and the table small). */
async function countConnections(): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  for (let page = 0; page < 10_000; page++) {
    const out = await documents.send(
      new ScanCommand({
        TableName: stack.tables.connections,
        Select: 'COUNT',
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
    if (start === undefined) break;
  }
  return count;
}

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    destroyDocumentClient(documents);
    await stack.stop();
  }
  process.exit(code);
}

process.on('message', (req: HostRequest) => {
  if (req.op === 'stop') {
    void stop(0);
    return;
  }
  countConnections().then(
    (count) => process.send?.({ op: 'countConnections', id: req.id, count }),
    (err: unknown) => process.send?.({ op: 'countConnections', id: req.id, error: String(err) }),
  );
});
process.on('disconnect', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
void stack.exited.then(({ code, signal }) => {
  if (!stopping) {
    process.stderr.write(`serverless offline exited (${code ?? signal}):\n${stack.output()}\n`);
    void stop(1);
  }
});
process.send?.({
  op: 'ready',
  httpUrl: stack.httpUrl,
  wsUrl: stack.wsUrl,
  dynamodbEndpoint: stack.dynamodbEndpoint,
});
