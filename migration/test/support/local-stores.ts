/**
 * The local stand-ins the migration's integration tests run against: a FerretDB (the droplet's
 * MongoDB) and a dynalite (serverless's DynamoDB), each on a free port, with the tables of
 * serverless/infra/tables.yml on demand.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createDocumentClient,
  destroyDocumentClient,
  type TableNames,
} from '@reactometer/serverless';
import { startFerretDb } from '@reactometer/devkit/ferretdb';
import { createTables, startDynalite } from '@reactometer/devkit/offline';

type DocumentClient = ReturnType<typeof createDocumentClient>;

export interface LocalStores {
  /** `mongodb://…` of the FerretDB; every test picks a database of its own. */
  readonly mongoUri: string;
  /** `http://host:port` of the dynalite. */
  readonly dynamoEndpoint: string;
  readonly dynamoRegion: string;
  /** A DocumentClient for the dynalite, closed by `stop`. */
  readonly client: DocumentClient;
  /** Creates the tables of tables.yml under these names and waits until they are active. */
  createTables(names: TableNames): Promise<void>;
  /** Stops both servers and removes FerretDB's data; safe to call after a failed start. */
  stop(): Promise<void>;
}

/** Starts FerretDB and dynalite on free ports; `stop()` undoes everything it started. */
export async function startLocalStores(): Promise<LocalStores> {
  const dynamoRegion = 'us-east-1';
  const dataDir = await mkdtemp(path.join(tmpdir(), 'migrate-ferret-'));
  const stops: Array<() => Promise<void> | void> = [
    () => rm(dataDir, { recursive: true, force: true }),
  ];
  const stop = async (): Promise<void> => {
    for (const fn of stops.splice(0).reverse()) await fn();
  };
  try {
    const ferret = await startFerretDb({ dataDir });
    stops.push(() => ferret.stop());
    const dynalite = await startDynalite();
    stops.push(() => dynalite.stop());
    const client = createDocumentClient({ endpoint: dynalite.endpoint, region: dynamoRegion });
    stops.push(() => destroyDocumentClient(client));
    return {
      mongoUri: ferret.uri,
      dynamoEndpoint: dynalite.endpoint,
      dynamoRegion,
      client,
      createTables: async (names) => {
        await createTables(client, names);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
