/**
 * `npm run migrate -- --mongodb-uri URI --states-table T --counts-table T [options]`: copies the
 * droplet's MongoDB data into the serverless deployment's DynamoDB tables and verifies the result
 * (see migrate-reactions.ts and docs/migration.md). Not imported by any Lambda handler, so
 * neither this file nor the `mongodb` driver ends up in a function bundle.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { systemClock } from '@reactometer/shared';
import {
  createMongoReactionStore,
  type MongoReactionStore,
} from '@reactometer/legacy-server/mongo-reaction-store';
import {
  createDocumentClient,
  destroyDocumentClient,
  DynamoReactionStore,
} from '@reactometer/serverless';
import { formatMigrationReport } from './format-report.js';
import { migrateReactions } from './migrate-reactions.js';

export const USAGE = `usage: npm run migrate -- --mongodb-uri URI --states-table NAME --counts-table NAME [options]

Copies every reaction state and emoji count from the droplet's MongoDB into the serverless
deployment's DynamoDB tables, then verifies both sides (states by content hash, counts, and
reconcile in report-only mode on the target). Safe to re-run: nothing is copied twice.

  --mongodb-uri URI          source (default: MONGODB_URI)
  --mongodb-db NAME          source database (default: MONGODB_DB or reactometer)
  --dynamodb-endpoint URL    target endpoint, e.g. http://localhost:4567 for dynalite
                             (default: DYNAMODB_ENDPOINT, else the regional AWS endpoint)
  --region REGION            default: AWS_REGION or us-east-1
  --states-table NAME        target states table (default: STATES_TABLE)
  --counts-table NAME        target counts table (default: COUNTS_TABLE)
  --dry-run                  report what would be copied; write nothing, skip verification
  --verify-only              copy nothing; only verify
  --repair-counts            after copying, recompute target counts from target states
                             (reconcile with repair): needed when dual-fed events created
                             counts on the target before the history was copied
  --batch-size N             states compared/written concurrently (default 25)
  --pending-lease-ms N       the deployments' PENDING_LEASE_MS (default 10000)
  --json                     print the full report as JSON on stdout
  --help

Exit codes: 0 verified (or dry run without conflicts); 1 differences found; 2 error.`;

export const EXIT_OK = 0;
export const EXIT_DIFFERENCES = 1;
export const EXIT_ERROR = 2;

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (text: string) => void;
  readonly err: (line: string) => void;
}

function positiveInt(name: string, raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new Error(`--${name}: must be a positive integer`);
  return Number(raw);
}

export async function runMigrateCli(argv: readonly string[], io: CliIo): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        'mongodb-uri': { type: 'string' },
        'mongodb-db': { type: 'string' },
        'dynamodb-endpoint': { type: 'string' },
        region: { type: 'string' },
        'states-table': { type: 'string' },
        'counts-table': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'verify-only': { type: 'boolean', default: false },
        'repair-counts': { type: 'boolean', default: false },
        'batch-size': { type: 'string', default: '25' },
        'pending-lease-ms': { type: 'string', default: '10000' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return EXIT_ERROR;
  }
  if (values.help) {
    io.err(USAGE);
    return EXIT_OK;
  }

  const problems: string[] = [];
  const mongoUri = values['mongodb-uri'] ?? io.env.MONGODB_URI;
  const statesTable = values['states-table'] ?? io.env.STATES_TABLE;
  const countsTable = values['counts-table'] ?? io.env.COUNTS_TABLE;
  if (mongoUri === undefined || !/^mongodb(\+srv)?:\/\/\S+$/.test(mongoUri)) {
    problems.push('--mongodb-uri: required, a mongodb:// or mongodb+srv:// connection string');
  }
  if (statesTable === undefined || statesTable === '') problems.push('--states-table: required');
  if (countsTable === undefined || countsTable === '') problems.push('--counts-table: required');
  if (values['dry-run'] && values['verify-only']) {
    problems.push('--dry-run and --verify-only: choose one');
  }
  let batchSize = 25;
  let pendingLeaseMs = 10_000;
  try {
    batchSize = positiveInt('batch-size', values['batch-size']);
    pendingLeaseMs = positiveInt('pending-lease-ms', values['pending-lease-ms']);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0) {
    io.err(`invalid arguments:\n  ${problems.join('\n  ')}\n\n${USAGE}`);
    return EXIT_ERROR;
  }

  const endpoint = values['dynamodb-endpoint'] ?? io.env.DYNAMODB_ENDPOINT;
  const region = values.region ?? io.env.AWS_REGION ?? 'us-east-1';
  const client = createDocumentClient({
    ...(endpoint === undefined ? {} : { endpoint }),
    region,
    requestTimeoutMs: 5_000,
    maxAttempts: 3,
  });
  let source: MongoReactionStore | undefined;
  try {
    source = await createMongoReactionStore({
      uri: mongoUri!,
      dbName: values['mongodb-db'] ?? io.env.MONGODB_DB ?? 'reactometer',
      // A batch job, not a request path: slower answers are fine, giving up early is not.
      serverSelectionTimeoutMs: 5_000,
      operationTimeoutMs: 30_000,
      queueTimeoutMs: 60_000,
    });
    const target = new DynamoReactionStore({
      client,
      statesTable: statesTable!,
      countsTable: countsTable!,
    });
    const report = await migrateReactions(
      {
        source,
        target,
        targetCounts: target,
        clock: systemClock,
        pendingLeaseMs,
      },
      {
        dryRun: values['dry-run'],
        verifyOnly: values['verify-only'],
        repairCounts: values['repair-counts'],
        batchSize,
        onProgress: (line) => io.err(line),
      },
    );
    if (values.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
    io.err(formatMigrationReport(report));
    return report.ok ? EXIT_OK : EXIT_DIFFERENCES;
  } catch (err) {
    io.err(`migration failed: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_ERROR;
  } finally {
    await source?.close().catch(() => undefined);
    destroyDocumentClient(client);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // The SDK's "upgrade from Node 20" notice would land in the middle of the report on stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  runMigrateCli(process.argv.slice(2), {
    env: process.env,
    out: (text) => process.stdout.write(text),
    err: (line) => process.stderr.write(`${line}\n`),
  }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(
        `migration failed: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      process.exit(EXIT_ERROR);
    },
  );
}
