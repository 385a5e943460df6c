/**
 * A real local backend for handler tests: dynalite with the tables of infra/tables.yml (names
 * unique to the test file), ElasticMQ with the inbox queues of infra/inbox.yml, and the
 * environment the handlers read at module scope. `drainInbox` plays the SQS event source mapping:
 * it feeds the inbox queue to a counter handler in this process until the queue is empty.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { startElasticMq, type ElasticMqProcess } from '@reactometer/devkit/elasticmq';
import {
  createInboxQueues,
  createTables,
  pumpOnce,
  startDynalite,
  type InboxQueues,
  type RunningDynalite,
} from '@reactometer/devkit/offline';
import { createDocumentClient, destroyDocumentClient } from '../../src/adapters/dynamodb-client.js';
import { tableNames, type TableNames } from '../../src/stack-names.js';

/** A counter handler (the real one, or one over failing parts). */
export type CounterHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

export interface HandlerBackend {
  readonly dynalite: RunningDynalite;
  readonly elasticmq: ElasticMqProcess;
  readonly inbox: InboxQueues;
  /**
   * Receives the inbox queue's messages and hands them to `counter` until a receive finds none;
   * resolves with the `batchItemFailures` reported along the way (they come back after 1 s).
   */
  drainInbox(counter: CounterHandler): Promise<string[]>;
  readonly client: DynamoDBDocumentClient;
  readonly tables: TableNames;
  /** The handlers' environment (merge test-specific keys into it). */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startHandlerBackend(): Promise<HandlerBackend> {
  const dynalite = await startDynalite();
  const client = createDocumentClient({ endpoint: dynalite.endpoint, region: 'us-east-1' });
  const stage = `t${randomBytes(3).toString('hex')}`;
  const tables = tableNames(stage);
  await createTables(client, tables);
  const sqsData = await mkdtemp(path.join(os.tmpdir(), 'reactometer-handler-sqs-'));
  const elasticmq = await startElasticMq({ dataDir: sqsData });
  const sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: elasticmq.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  // A failed event comes back after 1 s here (60 s on AWS): tests wait for redeliveries.
  const inbox = await createInboxQueues(sqs, stage, 'us-east-1', 1);
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
    SQS_ENDPOINT: elasticmq.endpoint,
    INBOX_QUEUE_URL: inbox.queueUrl,
    // Reads straight from the table: tests read a count right after applying it.
    COUNTS_CACHE_MS: '0',
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  return {
    dynalite,
    elasticmq,
    inbox,
    client,
    tables,
    env,
    async drainInbox(counter) {
      const failed: string[] = [];
      for (;;) {
        const turn = await pumpOnce({
          sqs,
          queueUrl: inbox.queueUrl,
          queueArn: inbox.queueArn,
          invoke: async (event) => {
            const result = await counter(event as unknown as SQSEvent);
            failed.push(...result.batchItemFailures.map((f) => f.itemIdentifier));
            return result;
          },
          waitTimeSeconds: 0,
        });
        if (turn.error !== undefined) throw turn.error;
        if (turn.received === 0) return failed;
      }
    },
    async stop() {
      destroyDocumentClient(client);
      sqs.destroy();
      await elasticmq.stop();
      await rm(sqsData, { recursive: true, force: true });
      await dynalite.stop();
    },
  };
}

/** Sets `env` on process.env (handlers read it when first imported). */
export function applyEnv(env: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(env)) process.env[key] = value;
}
