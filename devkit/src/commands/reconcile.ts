/**
 * `npm run reconcile [-- --target droplet|serverless] [--dry-run]`: the deployments' own reconcile
 * commands, pointed at this machine's local stores. For the droplet: MONGODB_URI, or the dev
 * FerretDB of a running `npm run legacy`, or one started for this run. For serverless:
 * DYNAMODB_ENDPOINT, or the dynalite of a running `npm run serverless`, or its data opened for
 * this run. Output and exit codes are the deployment command's.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createCommand, Option, readConfig, runCli } from '@reactometer/cli';
import { DATA_DIR } from '../paths.js';
import { isPortOpen } from '../ports.js';
import { DROPLET_DIR, SERVERLESS_DIR } from '../workspaces.js';

interface Options {
  readonly target: 'droplet' | 'serverless';
  readonly dryRun?: boolean;
}

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Runs a deployment's reconcile command with `env` added; resolves with its exit code. */
function runDeploymentCommand(
  file: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function reconcileDroplet(args: readonly string[]): Promise<number> {
  const { findRunningDevFerretDb, startDevFerretDb } = await import('../droplet/dev-database.js');
  let uri = process.env.MONGODB_URI;
  let ferret;
  if (uri === undefined || uri.trim() === '') {
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
  try {
    return await runDeploymentCommand(path.join(DROPLET_DIR, 'src', 'reconcile-cli.ts'), args, {
      MONGODB_URI: uri,
    });
  } finally {
    await ferret?.stop();
  }
}

async function reconcileServerless(args: readonly string[]): Promise<number> {
  const { tableNames } = await import('@reactometer/serverless');
  const { loadLocalStackConfig } = await import('../offline/offline-config.js');
  const local = readConfig(() =>
    loadLocalStackConfig(process.env, path.join(DATA_DIR, 'dynalite-serverless')),
  );
  const names = tableNames(local.stage);
  // The stage's table names and the local stack's region unless the environment says otherwise.
  const env: Record<string, string> = {
    STATES_TABLE: process.env.STATES_TABLE ?? names.states,
    COUNTS_TABLE: process.env.COUNTS_TABLE ?? names.counts,
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
  };
  let dynalite;
  let endpoint = process.env.DYNAMODB_ENDPOINT;
  if (endpoint === undefined) {
    if (await isPortOpen(local.ports.dynalite, local.host)) {
      endpoint = `http://${local.host}:${local.ports.dynalite}`;
      say(`DYNAMODB_ENDPOINT is not set; using the local stack's dynalite at ${endpoint}`);
    } else {
      const { startDynalite, createTables } = await import('../offline/index.js');
      const { createDocumentClient, destroyDocumentClient } =
        await import('@reactometer/serverless');
      // LevelDB allows one process per directory: only open it when the stack is not running.
      say(
        `DYNAMODB_ENDPOINT is not set and the local stack is not running; opening ${local.dynaliteDataDir ?? 'an empty in-memory dynalite'} for this run`,
      );
      dynalite = await startDynalite({
        host: local.host,
        ...(local.dynaliteDataDir === undefined ? {} : { dataDir: local.dynaliteDataDir }),
      });
      endpoint = dynalite.endpoint;
      const client = createDocumentClient({ endpoint, region: env.AWS_REGION! });
      try {
        await createTables(client, names);
      } finally {
        destroyDocumentClient(client);
      }
    }
  }
  try {
    return await runDeploymentCommand(path.join(SERVERLESS_DIR, 'src', 'reconcile-cli.ts'), args, {
      ...env,
      DYNAMODB_ENDPOINT: endpoint,
    });
  } finally {
    await dynalite?.stop();
  }
}

const program = createCommand(
  'npm run reconcile',
  "Recomputes every emoji count of a local deployment from its reaction states, reports drift and repairs it (the deployment's own reconcile command, pointed at this machine's store).",
)
  .addOption(
    new Option('--target <deployment>', 'which deployment')
      .choices(['droplet', 'serverless'])
      .default('droplet'),
  )
  .option('--dry-run', 'report only, change nothing')
  .addHelpText(
    'after',
    `
droplet: MONGODB_URI, else the dev FerretDB of a running \`npm run legacy\`, else one started for
this run. serverless: DYNAMODB_ENDPOINT, else the dynalite of a running \`npm run serverless\`,
else its data (DYNALITE_DATA_DIR) opened for this run; tables of OFFLINE_STAGE ("local").
Exit codes: 0 every count is right (or was repaired); 1 drift remains; 2 error.`,
  );

await runCli<Options>(program, async ({ target, dryRun }) => {
  const args = dryRun ? ['--dry-run'] : [];
  return target === 'droplet' ? reconcileDroplet(args) : reconcileServerless(args);
});
