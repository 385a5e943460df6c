/**
 * `reconcile` for the serverless deployment's DynamoDB tables, from an operator's machine:
 * recomputes every emoji count from the stored reaction states (core `reconcile`), prints a JSON
 * report on stdout and a summary on stderr, and repairs the drift unless `--dry-run`. Safe while
 * the stack serves. Locally, `npm run reconcile -- --target serverless` points it at the local
 * stack's dynalite.
 *
 * On AWS the same code also runs as the scheduled `reconcile` function; run that on demand with
 * `npx serverless invoke -f reconcile --stage STAGE` (input `{"repair": false}` for a dry run).
 */
import { createReconcileCommand, readConfig, runCli, runReconcile } from '@reactometer/cli';
import { reconcile, systemClock } from '@reactometer/shared';
import { loadRuntimeConfig, loadStoreConfig } from './config.js';

const program = createReconcileCommand(
  'reconcile (serverless)',
  `Reads AWS_REGION, STATES_TABLE and COUNTS_TABLE (required), DYNAMODB_ENDPOINT (unset: AWS, with
the usual AWS credentials) and PENDING_LEASE_MS.`,
);

await runCli<{ dryRun?: boolean }>(program, async ({ dryRun = false }) => {
  const storeConfig = readConfig(() => loadStoreConfig());
  const runtime = readConfig(() => loadRuntimeConfig());
  // The SDK's "upgrade from Node 20" notice would land in the middle of the report on stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { createDocumentClient, destroyDocumentClient } =
    await import('./adapters/dynamodb-client.js');
  const { DynamoReactionStore } = await import('./adapters/dynamodb-reaction-store.js');
  const { statesTable, countsTable, pendingLeaseMs } = storeConfig;
  const endpoint = runtime.dynamodbEndpoint;
  return runReconcile(async () => {
    const client = createDocumentClient({
      region: runtime.region,
      ...(endpoint === undefined ? {} : { endpoint }),
      requestTimeoutMs: 5_000,
    });
    try {
      const store = new DynamoReactionStore({ client, statesTable, countsTable });
      const report = await reconcile(store, {
        clock: systemClock,
        pendingLeaseMs,
        repair: !dryRun,
      });
      return {
        report,
        json: { dryRun, statesTable, countsTable },
        // This command has never listed in-flight emoji separately; they count in the last line.
        summary: {
          dryRun,
          target: `tables ${statesTable} / ${countsTable} at ${endpoint ?? `AWS ${runtime.region}`}`,
          showInFlight: false,
        },
      };
    } finally {
      destroyDocumentClient(client);
    }
  });
});
