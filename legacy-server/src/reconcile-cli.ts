/**
 * `npm run reconcile -w legacy-server [-- --dry-run]`: recomputes every emoji count from the
 * stored reaction states (core `reconcile`), prints a JSON report on stdout and a summary on
 * stderr, and repairs the drift unless `--dry-run`. Safe while the droplet is serving.
 */
import { pino } from 'pino';
import {
  parseReconcileArgs,
  reconcile,
  reconcileExitCode,
  RECONCILE_EXIT,
  reconcileUsage,
  summariseReconcile,
  systemClock,
} from '@reactometer/shared';
import type { FerretDbProcess } from '../../scripts/lib/ferretdb.js';
import { ConfigError, loadStoreConfig } from './config.js';
import { findRunningDevFerretDb, startDevFerretDb } from './dev-database.js';
import { createMongoReactionStore, type MongoReactionStore } from './mongo-reaction-store.js';

const USAGE = reconcileUsage(
  'npm run reconcile -w legacy-server',
  `Reads MONGODB_URI (unset: the dev FerretDB of \`npm run legacy\`, started if needed), MONGODB_DB,
PENDING_LEASE_MS and LOG_LEVEL.`,
);

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function run(argv: readonly string[]): Promise<number> {
  const args = parseReconcileArgs(argv, USAGE);
  if (args.kind === 'exit') {
    say(args.text);
    return args.code;
  }
  const { dryRun } = args;

  let config;
  try {
    config = loadStoreConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    say(err.listing());
    return RECONCILE_EXIT.error;
  }
  // Logs go to stderr: stdout carries only the JSON report, for scripts.
  // Store logs repeat what the summary says; they are shown at debug / trace only.
  const verbose = config.logLevel === 'debug' || config.logLevel === 'trace';
  const logger = pino({ level: verbose ? config.logLevel : 'error' }, pino.destination(2));

  let ferret: FerretDbProcess | undefined;
  let store: MongoReactionStore | undefined;
  try {
    let uri = config.mongodbUri;
    if (uri === undefined) {
      // Opening the same SQLite files from two FerretDB processes is not safe: reuse the
      // launcher's instance when one is running.
      uri = (await findRunningDevFerretDb()) ?? undefined;
      if (uri !== undefined)
        say(`MONGODB_URI is not set; using the dev FerretDB of \`npm run legacy\` at ${uri}`);
      else {
        say('MONGODB_URI is not set; starting the dev FerretDB for this run');
        ferret = await startDevFerretDb(say);
        uri = ferret.uri;
      }
    }
    store = await createMongoReactionStore({ uri, dbName: config.mongodbDb, logger });
    const report = await reconcile(store, {
      clock: systemClock,
      pendingLeaseMs: config.pendingLeaseMs,
      repair: !dryRun,
    });
    process.stdout.write(
      `${JSON.stringify({ dryRun, database: config.mongodbDb, ...report }, null, 2)}\n`,
    );
    say(summariseReconcile(report, { dryRun, target: `database "${config.mongodbDb}"` }));
    return reconcileExitCode(report);
  } catch (err) {
    say(`reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
    return RECONCILE_EXIT.error;
  } finally {
    await store?.close().catch(() => undefined);
    await ferret?.stop();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(RECONCILE_EXIT.error);
  },
);
