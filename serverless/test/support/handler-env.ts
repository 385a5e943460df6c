/**
 * A real local backend for handler tests: dynalite with the tables of infra/tables.yml (names
 * unique to the test file), and the environment the handlers read at module scope.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTables, startDynalite, type RunningDynalite } from '@reactometer/devkit/offline';
import { createDocumentClient, destroyDocumentClient } from '../../src/adapters/dynamodb-client.js';
import { tableNames, type TableNames } from '../../src/stack-names.js';

export interface HandlerBackend {
  readonly dynalite: RunningDynalite;
  readonly client: DynamoDBDocumentClient;
  readonly tables: TableNames;
  /** The handlers' environment (merge test-specific keys into it). */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startHandlerBackend(): Promise<HandlerBackend> {
  const dynalite = await startDynalite();
  const client = createDocumentClient({ endpoint: dynalite.endpoint, region: 'us-east-1' });
  const tables = tableNames(`t${randomBytes(3).toString('hex')}`);
  await createTables(client, tables);
  const env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    STATES_TABLE: tables.states,
    COUNTS_TABLE: tables.counts,
    CONNECTIONS_TABLE: tables.connections,
    FANOUT_GATE_TABLE: tables.fanout,
    FANOUT_WORKER_FUNCTION: 'reactometer-test-fanoutWorker',
    DYNAMODB_ENDPOINT: dynalite.endpoint,
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  return {
    dynalite,
    client,
    tables,
    env,
    async stop() {
      destroyDocumentClient(client);
      await dynalite.stop();
    },
  };
}

/** Sets `env` on process.env (handlers read it when first imported). */
export function applyEnv(env: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(env)) process.env[key] = value;
}
