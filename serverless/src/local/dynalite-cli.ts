/**
 * Starts dynalite with the tables of infra/tables.yml and keeps it up until SIGINT or SIGTERM.
 *
 *   tsx serverless/src/local/dynalite-cli.ts [--port 4567] [--host 127.0.0.1] [--data-dir DIR]
 *     [--states NAME] [--counts NAME] [--connections NAME]
 *
 * `--port 0` picks a free port. When ready it prints one JSON line to stdout,
 * `{"msg":"dynalite ready","endpoint":"http://127.0.0.1:4567",...}`, which a launcher that spawns
 * it as a child process waits for. Failures print `{"msg":"dynalite failed",...}` to stderr and
 * exit 1.
 */
import { parseArgs } from 'node:util';
import { createDocumentClient, destroyDocumentClient } from '../adapters/dynamodb-client.js';
import { DEFAULT_DYNALITE_PORT, startDynalite, type RunningDynalite } from './dynalite-server.js';
import { createTables, DEFAULT_LOCAL_TABLE_NAMES, type TableNames } from './table-definitions.js';

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`--port must be an integer from 0 to 65535, got ${JSON.stringify(raw)}`);
  }
  return port;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: String(DEFAULT_DYNALITE_PORT) },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
      states: { type: 'string', default: DEFAULT_LOCAL_TABLE_NAMES.states },
      counts: { type: 'string', default: DEFAULT_LOCAL_TABLE_NAMES.counts },
      connections: { type: 'string', default: DEFAULT_LOCAL_TABLE_NAMES.connections },
    },
    strict: true,
  });
  const names: TableNames = {
    states: values.states,
    counts: values.counts,
    connections: values.connections,
  };
  const dataDir = values['data-dir'];

  const dynalite: RunningDynalite = await startDynalite({
    port: parsePort(values.port),
    host: values.host,
    ...(dataDir === undefined ? {} : { dataDir }),
  });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    dynalite.stop().then(
      () => {
        process.stdout.write(`${JSON.stringify({ msg: 'dynalite stopped', signal })}\n`);
        process.exit(0);
      },
      (err: unknown) => fail(err),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Started with an IPC channel (child_process.fork): do not outlive the parent.
  process.on('disconnect', () => shutdown('disconnect'));

  const client = createDocumentClient({ endpoint: dynalite.endpoint, region: 'local' });
  try {
    await createTables(client, names);
  } finally {
    destroyDocumentClient(client);
  }

  process.stdout.write(
    `${JSON.stringify({
      msg: 'dynalite ready',
      endpoint: dynalite.endpoint,
      port: dynalite.port,
      tables: names,
      dataDir: dataDir ?? null,
    })}\n`,
  );
}

function fail(err: unknown): never {
  const error =
    err instanceof Error ? { name: err.name, message: err.message } : { message: String(err) };
  process.stderr.write(`${JSON.stringify({ msg: 'dynalite failed', error })}\n`);
  process.exit(1);
}

main().catch(fail);
