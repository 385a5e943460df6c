/**
 * `npm run reconcile -w legacy-server [-- --dry-run]`: recomputes every emoji count from the
 * stored reaction states (core `reconcile`), prints a JSON report on stdout and a summary on
 * stderr, and repairs the drift unless `--dry-run`. Safe while the droplet is serving.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { reconcile, systemClock, type ReconcileReport } from '@reactometer/shared';
import type { FerretDbProcess } from '../../scripts/lib/ferretdb.js';
import { ConfigError, loadStoreConfig } from './config.js';
import { findRunningDevFerretDb, startDevFerretDb } from './dev-database.js';
import { createMongoReactionStore, type MongoReactionStore } from './mongo-reaction-store.js';

const USAGE = `usage: npm run reconcile -w legacy-server [-- --dry-run]

Recomputes every emoji count from the stored reaction states, reports drift and repairs it.

  --dry-run   report only, change nothing
  --help      show this text

Reads MONGODB_URI (unset: the dev FerretDB of \`npm run legacy\`, started if needed), MONGODB_DB,
PENDING_LEASE_MS and LOG_LEVEL.

Exit codes: 0 every count is right (or was repaired); 1 drift remains (found in a dry run, or an
emoji changed during the run and was skipped: run again); 2 error.`;

export const EXIT_OK = 0;
export const EXIT_DRIFT = 1;
export const EXIT_ERROR = 2;

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Emoji whose stored count is still not the recomputed one after this run. */
function unsettled(report: ReconcileReport): string[] {
  return [
    ...new Set([...report.drift.filter((d) => !d.repaired).map((d) => d.emoji), ...report.skipped]),
  ].sort();
}

function summary(report: ReconcileReport, dryRun: boolean, db: string): string {
  const lines = [
    `reconcile${dryRun ? ' (dry run)' : ''} of database "${db}": ${report.statesScanned} reaction states, ` +
      `${report.emojiChecked} emoji checked, ${report.drift.length} count(s) wrong, ` +
      `${report.pendingCleared} stale pending marker(s) cleared`,
  ];
  for (const d of report.drift) {
    const what = d.repaired
      ? 'repaired'
      : dryRun
        ? 'not repaired (dry run)'
        : 'skipped (changed during the run)';
    lines.push(`  ${d.emoji}: stored ${d.stored}, expected ${d.expected}: ${what}`);
  }
  const inFlight = report.skipped.filter((e) => !report.drift.some((d) => d.emoji === e));
  if (inFlight.length > 0)
    lines.push(`  left alone while an update is in flight: ${inFlight.join(', ')}`);
  const left = unsettled(report);
  lines.push(
    left.length === 0
      ? 'every count matches the reaction states'
      : dryRun
        ? `${left.length} count(s) would be repaired; run without --dry-run to fix them`
        : `${left.length} count(s) still differ; run reconcile again`,
  );
  return lines.join('\n');
}

async function run(argv: readonly string[]): Promise<number> {
  let dryRun: boolean;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      say(USAGE);
      return EXIT_OK;
    }
    dryRun = values['dry-run'];
  } catch (err) {
    say(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return EXIT_ERROR;
  }

  let config;
  try {
    config = loadStoreConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    say(`invalid configuration:\n  ${err.problems.join('\n  ')}`);
    return EXIT_ERROR;
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
    say(summary(report, dryRun, config.mongodbDb));
    return unsettled(report).length > 0 ? EXIT_DRIFT : EXIT_OK;
  } catch (err) {
    say(`reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_ERROR;
  } finally {
    await store?.close().catch(() => undefined);
    await ferret?.stop();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(EXIT_ERROR);
  },
);
