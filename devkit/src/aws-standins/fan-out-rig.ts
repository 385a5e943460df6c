/**
 * A rig that runs the REAL sharded fan-out (serverless's `createShardedFlush` and `runSegment`, the
 * real registry on dynalite, the real senders) against the @connections STAND-IN, so that the
 * benchmark and the model's check measure what deploys. Only Lambda is replaced: the workers of a
 * flush run in this process instead of separate invocations, so they share its one CPU (the
 * model is told so).
 *
 * dynalite and the stand-in run in processes of their own: this process's CPU is the fan-out's.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { performance } from 'node:perf_hooks';
import {
  ApiGatewaySender,
  createDocumentClient,
  createManagementClient,
  createShardedFlush,
  destroyDocumentClient,
  DynamoConnectionRegistry,
  FANOUT_DEFAULTS,
  LeanConnectionSender,
  runSegment,
  tableNames,
  type FlushSummary,
} from '@reactometer/serverless';
import { systemClock, type ConnectionSender } from '@reactometer/shared';
import type { LatencyDistribution } from '../measure/distributions.js';
import { startDynaliteProcess, type DynaliteProcess } from '../offline/dynalite-process.js';
import {
  startConnectionsStandinProcess,
  type ConnectionsStandinProcess,
} from './connections-standin-process.js';
import type { RateLimit } from './connections-standin.js';

const REGION = 'eu-west-1';
const CREDENTIALS = { accessKeyId: 'AKIDFANOUTRIG', secretAccessKey: 'rig-secret-not-used' };

export type SenderKind = 'lean' | 'sdk';

export interface RigFlushOptions {
  readonly workers: number;
  /** Share of the stand-in's throttle the workers pace themselves to; null: no limiter. */
  readonly share: number | null;
  readonly sender?: SenderKind;
  readonly concurrency?: number;
  /** The frame posted (default: a one-emoji update). */
  readonly frame?: string;
}

export interface RigFlushResult {
  readonly summary: FlushSummary;
  /** From the flush's start to its last post answered. */
  readonly finishMs: number;
  /** Delivery times (stand-in answer times) from the flush's start, ms, sorted. */
  readonly deliveryMs: Float64Array;
  /** What the stand-in counted. */
  readonly standin: {
    readonly delivered: number;
    readonly throttled: number;
    readonly gone: number;
    readonly badSignature: number;
    readonly deliveredTwice: number;
    readonly neverDelivered: number;
  };
  /** CPU this process spent on the flush. */
  readonly cpuMs: number;
}

export interface ScanMeasure {
  readonly pages: number;
  readonly msPerPage: number;
  /** CPU this process spends per record read (SDK parsing of the Scan pages). */
  readonly cpuUsPerRecord: number;
}

export interface SenderRound {
  readonly posts: number;
  readonly postsPerSecond: number;
  /** CPU of this process per post (user + system). */
  readonly cpuUsPerPost: number;
  /**
   * CPU time over wall time: with nothing to wait for (a stand-in answering at once), the share of
   * a core this process actually got (other processes on this machine take the rest).
   */
  readonly cpuShare: number;
}

export interface FanOutRig {
  readonly standin: ConnectionsStandinProcess;
  readonly dynamodbEndpoint: string;
  /** Makes exactly `n` live connection records (and the stand-in holds exactly those ids). */
  populate(n: number): Promise<void>;
  /** Pages through every record once with the real registry (no posts). */
  measureScan(): Promise<ScanMeasure>;
  /** Sets the stand-in's throttle, which the flushes' limiters take their share of. */
  setRateLimit(limit: RateLimit | null): Promise<void>;
  flush(options: RigFlushOptions): Promise<RigFlushResult>;
  /** Posts `posts` times through one sender at `concurrency`, straight (no fan-out around it). */
  senderRound(kind: SenderKind, posts: number, concurrency: number): Promise<SenderRound>;
  stop(): Promise<void>;
}

export interface FanOutRigOptions {
  /** The stand-in's answer latency (one PostToConnection round trip). */
  readonly latency: LatencyDistribution;
  /** The stand-in's throttle (default: AWS's 10,000/s, burst 5,000). */
  readonly rateLimit?: RateLimit | null;
  readonly pageSize?: number;
}

export async function startFanOutRig(options: FanOutRigOptions): Promise<FanOutRig> {
  const tables = tableNames(`rig${process.pid.toString(36)}`);
  let rateLimit: RateLimit | null =
    options.rateLimit === undefined ? { ratePerSecond: 10_000, burst: 5_000 } : options.rateLimit;
  const [dynalite, standin]: [DynaliteProcess, ConnectionsStandinProcess] = await Promise.all([
    startDynaliteProcess(tables),
    startConnectionsStandinProcess({ region: REGION, latency: options.latency, rateLimit }),
  ]);
  const client = createDocumentClient({
    endpoint: dynalite.endpoint,
    region: REGION,
    maxSockets: 64,
    requestTimeoutMs: 30_000,
  });
  const pageSize = options.pageSize ?? 250;
  const registry = new DynamoConnectionRegistry({ client, table: tables.connections, pageSize });
  let ids: string[] = [];

  const makeSender = (
    kind: SenderKind,
    concurrency: number,
  ): { sender: ConnectionSender; close: () => Promise<void> } => {
    if (kind === 'sdk') {
      const management = createManagementClient({
        endpoint: standin.endpoint,
        region: REGION,
        maxSockets: concurrency,
        requestTimeoutMs: FANOUT_DEFAULTS.sendTimeoutMs,
      });
      management.config.credentials = async () => CREDENTIALS;
      return { sender: new ApiGatewaySender(management), close: async () => management.destroy() };
    }
    const sender = new LeanConnectionSender({
      endpoint: standin.endpoint,
      region: REGION,
      credentials: async () => CREDENTIALS,
      connections: concurrency,
      sendTimeoutMs: FANOUT_DEFAULTS.sendTimeoutMs,
    });
    return { sender, close: () => sender.close() };
  };

  const write = async (items: Record<string, unknown>[], del: boolean): Promise<void> => {
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < batches.length) {
          let batch = batches[next++]!;
          for (let round = 0; batch.length > 0; round++) {
            if (round > 20) throw new Error('dynalite kept items unprocessed');
            const out = await client.send(
              new BatchWriteCommand({
                RequestItems: {
                  [tables.connections]: batch.map((item) =>
                    del ? { DeleteRequest: { Key: item } } : { PutRequest: { Item: item } },
                  ),
                },
              }),
            );
            const left = out.UnprocessedItems?.[tables.connections] ?? [];
            batch = left.map((r) => (del ? r.DeleteRequest!.Key! : r.PutRequest!.Item!));
          }
        }
      }),
    );
  };

  // Kept across flushes, like a Lambda's sockets across invocations: a flush starts warm.
  const senders = new Map<string, { sender: ConnectionSender; close: () => Promise<void> }>();
  const senderFor = (kind: SenderKind, concurrency: number, index: number): ConnectionSender => {
    const key = `${kind}/${concurrency}/${index}`;
    let entry = senders.get(key);
    if (entry === undefined) {
      entry = makeSender(kind, concurrency);
      senders.set(key, entry);
    }
    return entry.sender;
  };

  return {
    standin,
    dynamodbEndpoint: dynalite.endpoint,

    async setRateLimit(limit) {
      rateLimit = limit;
      await standin.setRateLimit(limit);
    },

    async populate(n) {
      if (n < ids.length) {
        const extra = ids.slice(n);
        await write(
          extra.map((connectionId) => ({ connectionId })),
          true,
        );
        await standin.removeConnections(extra);
        ids = ids.slice(0, n);
        return;
      }
      const now = Date.now();
      const more = Array.from(
        { length: n - ids.length },
        (_, i) => `rig${(ids.length + i).toString(36).padStart(6, '0')}AbCdEfGh=`,
      );
      await write(
        more.map((connectionId) => ({
          connectionId,
          connectedAt: now,
          expiresAt: Math.floor(now / 1000) + 7_500,
        })),
        false,
      );
      await standin.addConnections(more);
      ids = [...ids, ...more];
    },

    async measureScan() {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let pages = 0;
      let records = 0;
      for await (const page of registry.pages(Math.floor(Date.now() / 1000))) {
        pages++;
        records += page.length;
      }
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return {
        pages,
        msPerPage: pages === 0 ? 0 : ms / pages,
        cpuUsPerRecord: records === 0 ? 0 : (cpu.user + cpu.system) / records,
      };
    },

    async flush(o) {
      const concurrency = o.concurrency ?? FANOUT_DEFAULTS.concurrency;
      // One sender per worker, as each Lambda worker has its own sockets; warmed once.
      const kind = o.sender ?? 'lean';
      const frame =
        o.frame ??
        JSON.stringify({ type: 'update', reactions: [{ emoji: 'tada', count: 7, version: 7 }] });
      await standin.setRateLimit(null);
      await Promise.all(
        Array.from({ length: o.workers }, (_, i) =>
          Promise.all(
            ids.slice(0, concurrency).map((id) => senderFor(kind, concurrency, i).send(id, frame)),
          ),
        ),
      );
      await standin.setRateLimit(rateLimit);
      const deps = (index: number) => ({
        registry,
        sender: senderFor(kind, concurrency, index),
        clock: systemClock,
        concurrency,
        maxAttempts: 4,
        baseBackoffMs: 50,
      });
      const run = (event: Parameters<typeof runSegment>[0]) =>
        runSegment(event, deps(event.segment.index));
      const flush = createShardedFlush({
        shards: {
          threshold: 1,
          connectionsPerWorker: 1,
          maxWorkers: o.workers,
          fixedWorkers: o.workers,
        },
        throttle: {
          accountRatePerSecond: rateLimit?.ratePerSecond ?? 10_000,
          accountBurst: rateLimit?.burst ?? 5_000,
          // Without a limiter each worker may send as fast as it can (and be throttled).
          share: o.share ?? 1_000,
        },
        runHere: run,
        runElsewhere: run,
      });
      await standin.resetCounts();
      const started = performance.timeOrigin + performance.now();
      const cpu0 = process.cpuUsage();
      const summary = await flush(frame, null);
      const cpu = process.cpuUsage(cpu0);
      const ended = performance.timeOrigin + performance.now();
      const times = await standin.deliveryTimes();
      const stats = await standin.stats();
      const deliveryMs = Float64Array.from(times, (t) => t - started).sort();
      return {
        summary,
        finishMs: ended - started,
        deliveryMs,
        standin: {
          delivered: stats.delivered,
          throttled: stats.throttled,
          gone: stats.gone,
          badSignature: stats.badSignature,
          deliveredTwice: stats.deliveredTwice,
          neverDelivered: stats.neverDelivered,
        },
        cpuMs: (cpu.user + cpu.system) / 1000,
      };
    },

    async senderRound(kind, posts, concurrency) {
      if (ids.length === 0) throw new Error('populate the rig before a sender round');
      const { sender, close } = makeSender(kind, concurrency);
      const frame = JSON.stringify({
        type: 'update',
        reactions: [{ emoji: 'tada', count: 7, version: 7 }],
      });
      try {
        // Warm the pool's sockets first: a Lambda's are warm after its first fan-out.
        await Promise.all(ids.slice(0, concurrency).map((id) => sender.send(id, frame)));
        let next = 0;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next < posts) {
              const i = next++;
              await sender.send(ids[i % ids.length]!, frame);
            }
          }),
        );
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        return {
          posts,
          postsPerSecond: (posts / ms) * 1000,
          cpuUsPerPost: (cpu.user + cpu.system) / posts,
          cpuShare: (cpu.user + cpu.system) / 1000 / ms,
        };
      } finally {
        await close();
      }
    },

    async stop() {
      for (const entry of senders.values()) await entry.close().catch(() => undefined);
      destroyDocumentClient(client);
      await Promise.all([standin.stop(), dynalite.stop()]);
    },
  };
}
