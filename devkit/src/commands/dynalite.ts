/**
 * Starts dynalite with the tables of infra/tables.yml and keeps it up until SIGINT or SIGTERM.
 *
 *   tsx devkit/src/commands/dynalite.ts [--port 4567] [--host 127.0.0.1] [--data-dir DIR]
 *     [--states NAME] [--counts NAME] [--connections NAME] [--fanout NAME]
 *
 * `--port 0` picks a free port. When ready it prints one JSON line to stdout,
 * `{"msg":"dynalite ready","endpoint":"http://127.0.0.1:4567",...}`, which a launcher that spawns
 * it as a child process waits for. Failures print `{"msg":"dynalite failed",...}` to stderr and
 * exit 1.
 */
import { createCommand, numberOption, runCli } from '@reactometer/cli';
import {
  createDocumentClient,
  destroyDocumentClient,
  type TableNames,
} from '@reactometer/serverless';
import {
  DEFAULT_DYNALITE_PORT,
  startDynalite,
  type RunningDynalite,
} from '../offline/dynalite-server.js';
import { createTables, DEFAULT_LOCAL_TABLE_NAMES } from '../offline/table-definitions.js';

interface Options {
  readonly port: number;
  readonly host: string;
  readonly dataDir?: string;
  readonly states: string;
  readonly counts: string;
  readonly connections: string;
  readonly fanout: string;
}

async function main(values: Options): Promise<void> {
  const names: TableNames = {
    states: values.states,
    counts: values.counts,
    connections: values.connections,
    fanout: values.fanout,
  };
  const dataDir = values.dataDir;

  const dynalite: RunningDynalite = await startDynalite({
    port: values.port,
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

const program = createCommand(
  'dynalite',
  'Runs dynalite with the tables of infra/tables.yml until SIGINT or SIGTERM.',
)
  .option(
    '--port <port>',
    'TCP port, 0 for a free one',
    numberOption({ integer: true, min: 0, max: 65_535 }),
    DEFAULT_DYNALITE_PORT,
  )
  .option('--host <host>', 'interface to bind', '127.0.0.1')
  .option('--data-dir <dir>', 'keep the tables in this LevelDB directory (default: in memory)')
  .option('--states <name>', 'reaction states table', DEFAULT_LOCAL_TABLE_NAMES.states)
  .option('--counts <name>', 'emoji counts table', DEFAULT_LOCAL_TABLE_NAMES.counts)
  .option('--connections <name>', 'connections table', DEFAULT_LOCAL_TABLE_NAMES.connections)
  .option('--fanout <name>', 'fan-out gate table', DEFAULT_LOCAL_TABLE_NAMES.fanout);

// Stays up after main resolves (until a signal), so it must not exit when main returns.
await runCli<Options>(program, (options) =>
  main(options).then(() => new Promise<never>(() => undefined)),
);
