/**
 * `reconcile` for the droplet's MongoDB: recomputes every emoji count from the stored reaction
 * states (core `reconcile`), prints a JSON report on stdout and a summary on stderr, and repairs
 * the drift unless `--dry-run`. Safe while the droplet is serving. On a droplet:
 * `MONGODB_URI=... node legacy-server/src/reconcile-cli.ts`; locally, `npm run reconcile` finds or
 * starts the dev FerretDB first.
 */
import { createReconcileCommand, readConfig, runCli, runReconcile } from '@reactometer/cli';
import { reconcile, systemClock } from '@reactometer/shared';
import { loadStoreConfig, requireMongoUri } from './config.js';

const program = createReconcileCommand(
  'reconcile (droplet)',
  'Reads MONGODB_URI (required), MONGODB_DB, PENDING_LEASE_MS and LOG_LEVEL.',
);

await runCli<{ dryRun?: boolean }>(program, async ({ dryRun = false }) => {
  const config = readConfig(() => loadStoreConfig());
  const uri = readConfig(() => requireMongoUri(config));
  const { pino } = await import('pino');
  const { createMongoReactionStore } = await import('./mongo-reaction-store.js');
  // Logs go to stderr: stdout carries only the JSON report, for scripts. Store logs repeat what
  // the summary says; they are shown at debug / trace only.
  const verbose = config.logLevel === 'debug' || config.logLevel === 'trace';
  const logger = pino({ level: verbose ? config.logLevel : 'error' }, pino.destination(2));
  const dbName = config.mongodbDb;
  const pendingLeaseMs = config.pendingLeaseMs;
  return runReconcile(async () => {
    const store = await createMongoReactionStore({ uri, dbName, logger });
    try {
      const report = await reconcile(store, {
        clock: systemClock,
        pendingLeaseMs,
        repair: !dryRun,
      });
      return {
        report,
        json: { dryRun, database: dbName },
        summary: { dryRun, target: `database "${dbName}"` },
      };
    } finally {
      await store.close().catch(() => undefined);
    }
  });
});
