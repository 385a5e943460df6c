/**
 * A FerretDB of its own for a test file, on a fresh data folder and a free port, with stores
 * opened on databases named for the test so that suites never see each other's data.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  createMongoReactionStore,
  type MongoReactionStore,
  type MongoReactionStoreOptions,
} from '@reactometer/legacy-server/mongo-reaction-store';
import { startFerretDb, type FerretDbProcess } from '../ferretdb.js';

export type StoreOptions = Omit<MongoReactionStoreOptions, 'uri' | 'dbName'>;

export interface TestDatabase {
  readonly ferret: FerretDbProcess;
  readonly uri: string;
  /** The database `openStore()` uses unless told otherwise. */
  readonly dbName: string;
  /** A database name no other store of this run uses. */
  newDatabaseName(): string;
  /** A store on `dbName` (or the given database); closed by `cleanup()`. */
  openStore(options?: StoreOptions & { readonly dbName?: string }): Promise<MongoReactionStore>;
  /** Closes every store, stops FerretDB and removes its data. */
  cleanup(): Promise<void>;
}

export async function startTestDatabase(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'reactometer-ferretdb-'));
  const ferret = await startFerretDb({ dataDir });
  const prefix = `test_${process.pid}_${Date.now().toString(36)}`;
  let databases = 0;
  const stores: MongoReactionStore[] = [];
  return {
    ferret,
    uri: ferret.uri,
    dbName: prefix,
    newDatabaseName: () => `${prefix}_${++databases}`,
    openStore: async ({ dbName = prefix, ...options } = {}) => {
      const store = await createMongoReactionStore({ uri: ferret.uri, dbName, ...options });
      stores.push(store);
      return store;
    },
    cleanup: async () => {
      await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
      await ferret.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
