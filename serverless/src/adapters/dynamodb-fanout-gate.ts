import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LeaseLostError, type FanOutGate, type GateLease } from '@reactometer/shared';
import { isConditionalCheckFailed, toStoreError } from './dynamodb-client.js';

export interface DynamoFanOutGateOptions {
  /** Create it once per process (see `createDocumentClient`). */
  readonly client: DynamoDBDocumentClient;
  /** Hash key `shard` (S); see infra/tables.yml. */
  readonly table: string;
  /** Which shard of updates this gate serialises (`all`: one gate for every dashboard). */
  readonly shard?: string;
}

const NAMES = {
  '#dirty': 'dirty',
  '#holder': 'holder',
  '#leaseUntil': 'leaseUntil',
  '#nextFlushAt': 'nextFlushAt',
  '#connections': 'connections',
} as const;

type Item = Record<string, unknown>;

function leaseOf(item: Item | undefined): GateLease {
  const next = item?.nextFlushAt;
  const connections = item?.connections;
  return {
    nextFlushAt: typeof next === 'number' ? next : 0,
    connections: typeof connections === 'number' ? connections : null,
  };
}

/**
 * The coalescing gate on one DynamoDB item, `{ shard, dirty: SS, holder, leaseUntil,
 * nextFlushAt, connections }`. Every method is ONE UpdateItem or GetItem, atomic on its own:
 * `ADD` to a string set is a union, `REMOVE` with `ReturnValues` takes the set and empties it in
 * the same write, and the lease is a compare-and-set on `holder` / `leaseUntil`. dynalite has no
 * transactions, and none is needed.
 */
export class DynamoFanOutGate implements FanOutGate {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly key: { shard: string };

  constructor(options: DynamoFanOutGateOptions) {
    this.client = options.client;
    this.table = options.table;
    this.key = { shard: options.shard ?? 'all' };
  }

  async markDirty(emojis: readonly string[]): Promise<void> {
    if (emojis.length === 0) return;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key,
          UpdateExpression: 'ADD #dirty :emojis',
          ExpressionAttributeNames: { '#dirty': NAMES['#dirty'] },
          ExpressionAttributeValues: { ':emojis': new Set(emojis) },
        }),
      );
    } catch (err) {
      throw toStoreError(err, 'gate.markDirty');
    }
  }

  async tryAcquire(holder: string, nowMs: number, leaseMs: number): Promise<GateLease | null> {
    try {
      const res = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key,
          UpdateExpression: 'SET #holder = :holder, #leaseUntil = :until',
          // Free, or held by a lease that has run out (its holder crashed or timed out).
          ConditionExpression: 'attribute_not_exists(#holder) OR #leaseUntil < :now',
          ExpressionAttributeNames: {
            '#holder': NAMES['#holder'],
            '#leaseUntil': NAMES['#leaseUntil'],
          },
          ExpressionAttributeValues: {
            ':holder': holder,
            ':until': nowMs + leaseMs,
            ':now': nowMs,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return leaseOf(res.Attributes);
    } catch (err) {
      if (isConditionalCheckFailed(err)) return null;
      throw toStoreError(err, 'gate.tryAcquire');
    }
  }

  async takeDirty(holder: string, nowMs: number, leaseMs: number): Promise<string[]> {
    try {
      const res = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key,
          UpdateExpression: 'REMOVE #dirty SET #leaseUntil = :until',
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: {
            '#dirty': NAMES['#dirty'],
            '#holder': NAMES['#holder'],
            '#leaseUntil': NAMES['#leaseUntil'],
          },
          ExpressionAttributeValues: { ':holder': holder, ':until': nowMs + leaseMs },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      const dirty = res.Attributes?.dirty;
      return dirty instanceof Set ? [...(dirty as Set<string>)] : [];
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new LeaseLostError(holder, { cause: err });
      throw toStoreError(err, 'gate.takeDirty');
    }
  }

  async renew(holder: string, nowMs: number, leaseMs: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key,
          UpdateExpression: 'SET #leaseUntil = :until',
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: {
            '#holder': NAMES['#holder'],
            '#leaseUntil': NAMES['#leaseUntil'],
          },
          ExpressionAttributeValues: { ':holder': holder, ':until': nowMs + leaseMs },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new LeaseLostError(holder, { cause: err });
      throw toStoreError(err, 'gate.renew');
    }
  }

  async release(holder: string, next: GateLease): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key,
          UpdateExpression:
            next.connections === null
              ? 'REMOVE #holder, #leaseUntil SET #nextFlushAt = :next'
              : 'REMOVE #holder, #leaseUntil SET #nextFlushAt = :next, #connections = :connections',
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: {
            '#holder': NAMES['#holder'],
            '#leaseUntil': NAMES['#leaseUntil'],
            '#nextFlushAt': NAMES['#nextFlushAt'],
            ...(next.connections === null ? {} : { '#connections': NAMES['#connections'] }),
          },
          ExpressionAttributeValues: {
            ':holder': holder,
            ':next': next.nextFlushAt,
            ...(next.connections === null ? {} : { ':connections': next.connections }),
          },
        }),
      );
    } catch (err) {
      // Someone else holds it now: there is nothing of ours left to give up.
      if (isConditionalCheckFailed(err)) return;
      throw toStoreError(err, 'gate.release');
    }
  }

  async isDirty(): Promise<boolean> {
    try {
      const res = await this.client.send(
        new GetCommand({
          TableName: this.table,
          Key: this.key,
          // The writer that marked it may have just failed to acquire: an eventually consistent
          // read could miss exactly the mark this check exists for.
          ConsistentRead: true,
          ProjectionExpression: '#dirty',
          ExpressionAttributeNames: { '#dirty': NAMES['#dirty'] },
        }),
      );
      const dirty = res.Item?.dirty;
      return dirty instanceof Set && dirty.size > 0;
    } catch (err) {
      throw toStoreError(err, 'gate.isDirty');
    }
  }
}
