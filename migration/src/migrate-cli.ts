/**
 * `npm run migrate -- --mongodb-uri URI --states-table T --counts-table T [options]`: copies the
 * droplet's MongoDB data into the serverless deployment's DynamoDB tables and verifies the result
 * (see migrate-reactions.ts and docs/migration.md).
 *
 * The composition root of the migration: the only file that names the concrete stores. They are
 * imported once the command line is valid, so that `--help` and a usage error answer without
 * loading the MongoDB driver or the AWS SDK.
 */
import {
  CliError,
  createCommand,
  EXIT,
  InvalidArgumentError,
  numberOption,
  Option,
  runCli,
} from '@reactometer/cli';
// Types only (erased): the modules themselves are imported once the command line is valid.
import type { MongoReactionStore } from '@reactometer/legacy-server/mongo-reaction-store';

/**
 * Any failure after the command line was accepted (a store unreachable, a missing table). Not
 * `EXIT.failure`: 1 means "differences found", and a run that could not compare must not read as
 * one (docs/migration.md documents 2).
 */
const EXIT_ERROR = 2;

interface MigrateOptions {
  readonly mongodbUri?: string;
  readonly mongodbDb: string;
  readonly dynamodbEndpoint?: string;
  readonly region: string;
  readonly statesTable?: string;
  readonly countsTable?: string;
  readonly dryRun?: true;
  readonly verifyOnly?: true;
  readonly repairCounts?: true;
  readonly batchSize: number;
  readonly pendingLeaseMs: number;
  readonly json?: true;
}

const MONGODB_URI = /^mongodb(\+srv)?:\/\/\S+$/;

function mongoUri(raw: string): string {
  if (!MONGODB_URI.test(raw)) {
    throw new InvalidArgumentError('must be a mongodb:// or mongodb+srv:// connection string');
  }
  return raw;
}

const program = createCommand(
  'migrate',
  "Copies every reaction state and emoji count from the droplet's MongoDB into the serverless " +
    "deployment's DynamoDB tables, then verifies both sides (states by content hash, counts, and " +
    'reconcile in report-only mode on the target). Safe to re-run: nothing is copied twice.',
)
  .addOption(
    new Option('--mongodb-uri <uri>', 'source (required)').env('MONGODB_URI').argParser(mongoUri),
  )
  .addOption(
    new Option('--mongodb-db <name>', 'source database').env('MONGODB_DB').default('reactometer'),
  )
  .addOption(
    new Option(
      '--dynamodb-endpoint <url>',
      'target endpoint, e.g. http://localhost:4567 for dynalite (default: the regional AWS endpoint)',
    ).env('DYNAMODB_ENDPOINT'),
  )
  .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION').default('us-east-1'))
  .addOption(
    new Option('--states-table <name>', 'target states table (required)').env('STATES_TABLE'),
  )
  .addOption(
    new Option('--counts-table <name>', 'target counts table (required)').env('COUNTS_TABLE'),
  )
  .addOption(
    new Option(
      '--dry-run',
      'report what would be copied; write nothing, skip verification',
    ).conflicts('verifyOnly'),
  )
  .option('--verify-only', 'copy nothing; only verify')
  .option(
    '--repair-counts',
    'after copying, recompute target counts from target states (reconcile with repair): ' +
      'needed when dual-fed events created counts on the target before the history was copied',
  )
  .option(
    '--batch-size <n>',
    'states compared/written concurrently',
    numberOption({ integer: true, min: 1 }),
    25,
  )
  .option(
    '--pending-lease-ms <n>',
    "the deployments' PENDING_LEASE_MS",
    numberOption({ integer: true, min: 1 }),
    10_000,
  )
  .option('--json', 'print the full report as JSON on stdout')
  .addHelpText(
    'after',
    '\nExit codes: 0 verified (or dry run without conflicts); 1 differences found; ' +
      '2 usage error or failure.',
  );

/** The three settings without a default, all named at once when missing. */
function requireTargets(o: MigrateOptions): { uri: string; states: string; counts: string } {
  const problems: string[] = [];
  if (o.mongodbUri === undefined) {
    problems.push(
      '--mongodb-uri: required, a mongodb:// or mongodb+srv:// connection string (or MONGODB_URI)',
    );
  }
  if (o.statesTable === undefined || o.statesTable === '') {
    problems.push('--states-table: required (or STATES_TABLE)');
  }
  if (o.countsTable === undefined || o.countsTable === '') {
    problems.push('--counts-table: required (or COUNTS_TABLE)');
  }
  if (problems.length > 0) {
    throw new CliError(`invalid arguments: ${problems.join('; ')}`, EXIT.usage);
  }
  return { uri: o.mongodbUri!, states: o.statesTable!, counts: o.countsTable! };
}

async function migrate(o: MigrateOptions): Promise<number> {
  const targets = requireTargets(o);
  // The SDK's "upgrade from Node 20" notice would land in the middle of the report on stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [
    { createMongoReactionStore },
    serverless,
    { systemClock },
    { migrateReactions },
    { formatMigrationReport },
  ] = await Promise.all([
    import('@reactometer/legacy-server/mongo-reaction-store'),
    import('@reactometer/serverless'),
    import('@reactometer/shared'),
    import('./migrate-reactions.js'),
    import('./format-report.js'),
  ]);
  const say = (line: string): void => void process.stderr.write(`${line}\n`);

  const client = serverless.createDocumentClient({
    ...(o.dynamodbEndpoint === undefined ? {} : { endpoint: o.dynamodbEndpoint }),
    region: o.region,
    requestTimeoutMs: 5_000,
    maxAttempts: 3,
  });
  let source: MongoReactionStore | undefined;
  try {
    source = await createMongoReactionStore({
      uri: targets.uri,
      dbName: o.mongodbDb,
      // A batch job, not a request path: slower answers are fine, giving up early is not.
      serverSelectionTimeoutMs: 5_000,
      operationTimeoutMs: 30_000,
      queueTimeoutMs: 60_000,
    });
    // The target store is also the count inserter: insertCount keeps each count's version.
    const target = new serverless.DynamoReactionStore({
      client,
      statesTable: targets.states,
      countsTable: targets.counts,
    });
    const report = await migrateReactions(
      {
        source,
        target,
        targetCounts: target,
        clock: systemClock,
        pendingLeaseMs: o.pendingLeaseMs,
      },
      {
        dryRun: o.dryRun === true,
        verifyOnly: o.verifyOnly === true,
        repairCounts: o.repairCounts === true,
        batchSize: o.batchSize,
        onProgress: say,
      },
    );
    if (o.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    say(formatMigrationReport(report));
    return report.ok ? EXIT.ok : EXIT.failure;
  } catch (err) {
    throw new CliError(
      `migration failed: ${err instanceof Error ? err.message : String(err)}`,
      EXIT_ERROR,
    );
  } finally {
    await source?.close().catch(() => undefined);
    serverless.destroyDocumentClient(client);
  }
}

await runCli<MigrateOptions>(program, migrate);
