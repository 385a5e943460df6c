/**
 * dynalite (DynamoDB's API on LevelDB, pure Node) embedded in this process: the local DynamoDB of
 * tests and of the offline stack. It has no TTL expiry, no transactions and no streams, which is
 * why the adapters use single-item conditional writes and filter on `expiresAt`.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { assertServersAllowed } from '../server-guard.js';

/** The CLI's default port: dynalite's own default, so tools that know dynalite find it. */
export const DEFAULT_DYNALITE_PORT = 4567;

export interface DynaliteOptions {
  /** TCP port; omitted or 0: a free port chosen by the OS. */
  readonly port?: number;
  /** Default 127.0.0.1: nothing outside this machine should reach a credential-less store. */
  readonly host?: string;
  /**
   * LevelDB directory to persist the tables in; omitted: in memory, gone on stop. dynalite 4 uses
   * `level` -> classic-level, whose N-API prebuilds (linux-x64 among them) load without running
   * install scripts or a compiler, so persistence works even though npm 11 skips install scripts.
   */
  readonly dataDir?: string;
}

export interface RunningDynalite {
  /** `http://host:port`, for `createDocumentClient({ endpoint })`. */
  readonly endpoint: string;
  readonly port: number;
  /** Closes open connections and the database; resolves once the port is free. Idempotent. */
  stop(): Promise<void>;
}

interface DynaliteFactoryOptions {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  path?: string;
}

// dynalite is CommonJS without type declarations, so it is loaded through `require` and typed here
// rather than by an ambient `declare module`.
const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: DynaliteFactoryOptions) => Server;

export async function startDynalite(options: DynaliteOptions = {}): Promise<RunningDynalite> {
  assertServersAllowed('dynalite');
  const host = options.host ?? '127.0.0.1';
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true });
  const server = dynalite({
    // Real DynamoDB takes seconds to create a table; locally nobody should wait for it.
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dataDir === undefined ? {} : { path: options.dataDir }),
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        // dynalite's close waits for the HTTP server, which waits for every keep-alive socket
        // that SDK clients hold open; dropping them lets it close the database right away.
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
