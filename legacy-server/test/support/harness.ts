/**
 * Starts the real pieces the droplet tests need: FerretDB on a fresh data folder, the MongoDB
 * store against it, and the droplet in-process on a free port.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { startFerretDb, type FerretDbProcess } from '../../../scripts/lib/ferretdb.js';
import { createDroplet, type Droplet, type DropletOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import {
  createMongoReactionStore,
  type MongoReactionStore,
} from '../../src/mongo-reaction-store.js';

export const TEST_SIGNING_SECRET = 'test-signing-secret-0123456789';

export interface TestDatabase {
  readonly ferret: FerretDbProcess;
  /** A database name of its own, so that suites never see each other's data. */
  readonly dbName: string;
  openStore(options?: {
    serverSelectionTimeoutMs?: number;
    operationTimeoutMs?: number;
  }): Promise<MongoReactionStore>;
  cleanup(): Promise<void>;
}

export async function startTestDatabase(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'reactometer-ferretdb-'));
  const ferret = await startFerretDb({ dataDir });
  const dbName = `test_${process.pid}_${Date.now().toString(36)}`;
  const stores: MongoReactionStore[] = [];
  return {
    ferret,
    dbName,
    openStore: async (options = {}) => {
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

/** Droplet settings from the real config loader: defaults, plus the given variables. */
export function testSettings(env: Record<string, string> = {}): ReturnType<typeof loadConfig> {
  return loadConfig({
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export interface RunningDroplet {
  readonly droplet: Droplet;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly port: number;
}

export async function startDroplet(
  options: Omit<DropletOptions, 'signingSecret'> & { signingSecret?: string },
): Promise<RunningDroplet> {
  const droplet = createDroplet({ signingSecret: TEST_SIGNING_SECRET, ...options });
  const address = await droplet.start();
  return {
    droplet,
    port: address.port,
    httpUrl: `http://127.0.0.1:${address.port}`,
    wsUrl: `ws://127.0.0.1:${address.port}/ws`,
  };
}

/** A pino logger whose lines the test can read. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}
