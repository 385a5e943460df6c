/**
 * `npm run reconcile -w serverless [-- --dry-run]`: recomputes every emoji count from the stored
 * reaction states (core `reconcile`) in the local stack's DynamoDB, prints a JSON report on stdout
 * and a summary on stderr, and repairs the drift unless `--dry-run`. Safe while the stack serves.
 *
 * On AWS the same code runs as the scheduled `reconcile` function; run it on demand with
 * `npx serverless invoke -f reconcile --stage STAGE` (input `{"repair": false}` for a dry run).
 */
import path from 'node:path';
import {
  parseReconcileArgs,
  reconcile,
  reconcileExitCode,
  RECONCILE_EXIT,
  reconcileUsage,
  summariseReconcile,
  systemClock,
} from '@reactometer/shared';
import { DATA_DIR } from '../../../scripts/lib/paths.js';
import { isPortOpen } from '../../../scripts/lib/free-port.js';
import { createDocumentClient, destroyDocumentClient } from '../adapters/dynamodb-client.js';
import { DynamoReactionStore } from '../adapters/dynamodb-reaction-store.js';
import {
  ConfigError,
  loadLocalStackConfig,
  loadRuntimeConfig,
  loadStoreConfig,
} from '../config.js';
import { tableNames } from '../stack-names.js';
import { startDynalite, type RunningDynalite } from './dynalite-server.js';
import { createTables } from './table-definitions.js';

const USAGE = reconcileUsage(
  'npm run reconcile -w serverless',
  `Uses DYNAMODB_ENDPOINT when set, otherwise the local stack's dynalite (DYNALITE_PORT, default
4567; started on DYNALITE_DATA_DIR for this run if the stack is not running). Tables: STATES_TABLE
and COUNTS_TABLE, default the OFFLINE_STAGE ("local") tables. Also reads AWS_REGION and
PENDING_LEASE_MS.`,
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

  let local;
  let storeConfig;
  let runtime;
  try {
    local = loadLocalStackConfig(process.env, path.join(DATA_DIR, 'dynalite-serverless'));
    const names = tableNames(local.stage);
    // The stage's table names and the local stack's region unless the environment says otherwise.
    storeConfig = loadStoreConfig({
      STATES_TABLE: names.states,
      COUNTS_TABLE: names.counts,
      ...process.env,
    });
    runtime = loadRuntimeConfig({ AWS_REGION: 'us-east-1', ...process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    say(err.listing());
    return RECONCILE_EXIT.error;
  }
  const { region } = runtime;
  // The SDK's "upgrade from Node 20" notice would land in the middle of the report on stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  let dynalite: RunningDynalite | undefined;
  let endpoint = runtime.dynamodbEndpoint;
  if (endpoint === undefined) {
    if (await isPortOpen(local.ports.dynalite, local.host)) {
      endpoint = `http://${local.host}:${local.ports.dynalite}`;
      say(`DYNAMODB_ENDPOINT is not set; using the local stack's dynalite at ${endpoint}`);
    } else {
      // LevelDB allows one process per directory: only open it when the stack is not running.
      say(
        `DYNAMODB_ENDPOINT is not set and the local stack is not running; opening ${local.dynaliteDataDir ?? 'an empty in-memory dynalite'} for this run`,
      );
      dynalite = await startDynalite({
        host: local.host,
        ...(local.dynaliteDataDir === undefined ? {} : { dataDir: local.dynaliteDataDir }),
      });
      endpoint = dynalite.endpoint;
    }
  }

  const client = createDocumentClient({ endpoint, region, requestTimeoutMs: 5_000 });
  try {
    if (dynalite !== undefined) await createTables(client, tableNames(local.stage));
    const store = new DynamoReactionStore({
      client,
      statesTable: storeConfig.statesTable,
      countsTable: storeConfig.countsTable,
    });
    const report = await reconcile(store, {
      clock: systemClock,
      pendingLeaseMs: storeConfig.pendingLeaseMs,
      repair: !dryRun,
    });
    const where = `tables ${storeConfig.statesTable} / ${storeConfig.countsTable} at ${endpoint}`;
    process.stdout.write(
      `${JSON.stringify({ dryRun, statesTable: storeConfig.statesTable, countsTable: storeConfig.countsTable, ...report }, null, 2)}\n`,
    );
    // This command has never listed in-flight emoji separately; they count in the last line.
    say(summariseReconcile(report, { dryRun, target: where, showInFlight: false }));
    return reconcileExitCode(report);
  } catch (err) {
    say(`reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
    return RECONCILE_EXIT.error;
  } finally {
    destroyDocumentClient(client);
    await dynalite?.stop();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(RECONCILE_EXIT.error);
  },
);
