import {
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  StoreConflictError,
  StoreUnavailableError,
  type EmojiCount,
  type PendingCount,
  type ReactionRef,
  type ReactionState,
  type ReactionStore,
  type StateFilter,
} from '@reactometer/shared';
import { isConditionalCheckFailed, toStoreError } from './dynamodb-client.js';

export interface DynamoReactionStoreOptions {
  /** Create it once per process (see `createDocumentClient`). */
  readonly client: DynamoDBDocumentClient;
  /** Hash key `key` (S); see infra/tables.yml. */
  readonly statesTable: string;
  /** Hash key `emoji` (S); see infra/tables.yml. */
  readonly countsTable: string;
  /** Items per Scan page; omitted: DynamoDB's 1 MB pages. */
  readonly scanPageSize?: number;
}

type Item = Record<string, unknown>;

// `key` and `count` are DynamoDB reserved words, so every expression names attributes through
// placeholders, even the ones that are not reserved today.
const NAMES = {
  '#key': 'key',
  '#rev': 'rev',
  '#emoji': 'emoji',
  '#count': 'count',
  '#version': 'version',
} as const;

/**
 * A -1 that finds zero retries only when a concurrent +1 lands between its failed condition and
 * its re-read; each retry means another writer made progress, so a few are plenty.
 */
const MAX_DECREMENT_ATTEMPTS = 16;

/**
 * `ReactionStore` on two DynamoDB tables, with single-item conditional writes only. No
 * TransactWriteItems: dynalite (the local store) has none, and the counting model does not need
 * one because each step is a compare-and-set on one item (DESIGN.md, "Counting model").
 *
 * Item shapes: states `{ key, ref: {team, item, user, reaction}, baseEmoji, present, eventTs, rev,
 * pending: {delta, since} | null }`; counts `{ emoji, count, version }`.
 */
export class DynamoReactionStore implements ReactionStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly statesTable: string;
  private readonly countsTable: string;
  private readonly scanPageSize: number | undefined;

  constructor(options: DynamoReactionStoreOptions) {
    this.client = options.client;
    this.statesTable = options.statesTable;
    this.countsTable = options.countsTable;
    this.scanPageSize = options.scanPageSize;
  }

  async getState(key: string): Promise<ReactionState | null> {
    try {
      // Strongly consistent: the compare-and-set that follows needs the latest rev, or it loses
      // its race for nothing and retries.
      const out = await this.client.send(
        new GetCommand({ TableName: this.statesTable, Key: { key }, ConsistentRead: true }),
      );
      return out.Item === undefined ? null : stateFromItem(out.Item);
    } catch (err) {
      throw toStoreError(err, 'getState');
    }
  }

  async putState(next: ReactionState, expectedRev: number | null): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.statesTable,
          Item: stateToItem(next),
          ...(expectedRev === null
            ? {
                ConditionExpression: 'attribute_not_exists(#key)',
                ExpressionAttributeNames: { '#key': NAMES['#key'] },
              }
            : {
                ConditionExpression: '#rev = :expected',
                ExpressionAttributeNames: { '#rev': NAMES['#rev'] },
                ExpressionAttributeValues: { ':expected': expectedRev },
              }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw toStoreError(err, 'putState');
    }
  }

  async adjustCount(emoji: string, delta: 1 | -1): Promise<EmojiCount> {
    try {
      // ADD creates a missing item and missing attributes at 0, so +1 needs no condition.
      if (delta === 1) return await this.addToCount(emoji, 1, false);
      for (let attempt = 0; attempt < MAX_DECREMENT_ATTEMPTS; attempt++) {
        try {
          return await this.addToCount(emoji, -1, true);
        } catch (err) {
          if (!isConditionalCheckFailed(err)) throw err;
        }
        // The count was zero or missing: nothing changes. Report what is stored, as the port says.
        const current = await this.readCount(emoji);
        if (current === null) {
          // Mirror the in-memory store: a -1 on an unknown emoji leaves it listed at 0, version 0.
          const zero: EmojiCount = { emoji, count: 0, version: 0 };
          if (await this.putCountIfAbsent(zero)) return zero;
          continue; // someone created it meanwhile: decide again on what they wrote
        }
        if (current.count <= 0) return current;
        // A +1 landed between the failed condition and the read: the -1 now has something to take.
      }
      throw new StoreConflictError(
        `gave up decrementing ${JSON.stringify(emoji)} after ${MAX_DECREMENT_ATTEMPTS} races`,
      );
    } catch (err) {
      throw toStoreError(err, 'adjustCount');
    }
  }

  async setCount(
    emoji: string,
    count: number,
    expectedVersion: number | null,
  ): Promise<EmojiCount | null> {
    const next: EmojiCount = { emoji, count, version: (expectedVersion ?? 0) + 1 };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.countsTable,
          Item: { emoji: next.emoji, count: next.count, version: next.version },
          ...(expectedVersion === null
            ? {
                ConditionExpression: 'attribute_not_exists(#emoji)',
                ExpressionAttributeNames: { '#emoji': NAMES['#emoji'] },
              }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': NAMES['#version'] },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        }),
      );
      return next;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return null;
      throw toStoreError(err, 'setCount');
    }
  }

  /**
   * Writes a count with its version, only where the table has no count for that emoji; false when
   * one exists (nothing written). Not part of `ReactionStore`: its `setCount` starts a new count at
   * version 1, while copying data in (the data migration) must keep versions, because dashboards
   * drop updates whose version is not newer than what they hold.
   */
  async insertCount(count: EmojiCount): Promise<boolean> {
    if (!Number.isSafeInteger(count.count) || count.count < 0) {
      throw new RangeError(`count of ${count.emoji} must be a non-negative integer`);
    }
    try {
      return await this.putCountIfAbsent(count);
    } catch (err) {
      throw toStoreError(err, 'insertCount');
    }
  }

  async listCounts(): Promise<EmojiCount[]> {
    const out: EmojiCount[] = [];
    try {
      for await (const item of this.scan(this.countsTable)) out.push(countFromItem(item));
    } catch (err) {
      throw toStoreError(err, 'listCounts');
    }
    return out;
  }

  async *scanStates(filter: StateFilter = {}): AsyncIterable<ReactionState> {
    try {
      // No index on baseEmoji: a filtered Scan still reads (and bills) the whole table. It runs
      // only when the core recovers an interrupted count change, which is rare.
      const items = this.scan(
        this.statesTable,
        filter.baseEmoji === undefined
          ? undefined
          : {
              FilterExpression: '#baseEmoji = :baseEmoji',
              ExpressionAttributeNames: { '#baseEmoji': 'baseEmoji' },
              ExpressionAttributeValues: { ':baseEmoji': filter.baseEmoji },
            },
      );
      for await (const item of items) yield stateFromItem(item);
    } catch (err) {
      throw toStoreError(err, 'scanStates');
    }
  }

  async ping(): Promise<void> {
    // A GetItem of a key that never exists reads both tables for 0.5 RCU each and needs no IAM
    // permission beyond what the handlers already have (DescribeTable would).
    try {
      await Promise.all([
        this.client.send(new GetCommand({ TableName: this.statesTable, Key: { key: PING_KEY } })),
        this.client.send(new GetCommand({ TableName: this.countsTable, Key: { emoji: PING_KEY } })),
      ]);
    } catch (err) {
      const mapped = toStoreError(err, 'ping');
      if (mapped instanceof StoreUnavailableError) throw mapped;
      // A missing table or a denied permission also means "not ready to serve": /healthz answers
      // 503 rather than 500, but the cause is kept for the logs.
      throw new StoreUnavailableError(`DynamoDB ping failed: ${errorName(err)}`, { cause: err });
    }
  }

  private async addToCount(
    emoji: string,
    delta: 1 | -1,
    onlyIfPositive: boolean,
  ): Promise<EmojiCount> {
    const out = await this.client.send(
      new UpdateCommand({
        TableName: this.countsTable,
        Key: { emoji },
        UpdateExpression: 'ADD #count :delta, #version :one',
        ...(onlyIfPositive ? { ConditionExpression: '#count > :zero' } : {}),
        ExpressionAttributeNames: { '#count': NAMES['#count'], '#version': NAMES['#version'] },
        ExpressionAttributeValues: {
          ':delta': delta,
          ':one': 1,
          ...(onlyIfPositive ? { ':zero': 0 } : {}),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    if (out.Attributes === undefined) throw new Error('UpdateItem with ALL_NEW returned no item');
    return countFromItem(out.Attributes);
  }

  private async readCount(emoji: string): Promise<EmojiCount | null> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.countsTable, Key: { emoji }, ConsistentRead: true }),
    );
    return out.Item === undefined ? null : countFromItem(out.Item);
  }

  /** Unmapped errors: callers map them under their own operation name. */
  private async putCountIfAbsent(count: EmojiCount): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.countsTable,
          Item: { emoji: count.emoji, count: count.count, version: count.version },
          ConditionExpression: 'attribute_not_exists(#emoji)',
          ExpressionAttributeNames: { '#emoji': NAMES['#emoji'] },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  private async *scan(
    table: string,
    filter?: Pick<
      ScanCommandInput,
      'FilterExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): AsyncGenerator<Item> {
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: table,
          // Consistent: reconcile compares counts with states and must not see a stale page.
          ConsistentRead: true,
          ...filter,
          ...(this.scanPageSize === undefined ? {} : { Limit: this.scanPageSize }),
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of page.Items ?? []) yield item;
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }
}

/** A key no reaction can have: `reactionKey` always joins four parts with `|`. */
const PING_KEY = '__reactometer_ping__';

function errorName(err: unknown): string {
  const name =
    typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : 'unknown error';
}

function stateToItem(state: ReactionState): Item {
  return {
    key: state.key,
    ref: {
      team: state.ref.team,
      item: state.ref.item,
      user: state.ref.user,
      reaction: state.ref.reaction,
    },
    baseEmoji: state.baseEmoji,
    present: state.present,
    eventTs: state.eventTs,
    rev: state.rev,
    pending:
      state.pending === null ? null : { delta: state.pending.delta, since: state.pending.since },
  };
}

class MalformedItemError extends Error {
  constructor(what: string, item: Item) {
    const id = JSON.stringify(item['key'] ?? item['emoji'] ?? null);
    super(`malformed DynamoDB item ${id}: ${what}`);
    this.name = 'MalformedItemError';
  }
}

function str(item: Item, field: string, from: Item = item): string {
  const v = from[field];
  if (typeof v !== 'string') throw new MalformedItemError(`${field} is not a string`, item);
  return v;
}

function num(item: Item, field: string, from: Item = item): number {
  const v = from[field];
  if (typeof v !== 'number') throw new MalformedItemError(`${field} is not a number`, item);
  return v;
}

function map(item: Item, field: string): Item {
  const v = item[field];
  if (typeof v !== 'object' || v === null)
    throw new MalformedItemError(`${field} is not a map`, item);
  return v as Item;
}

// Items are read field by field rather than cast, so that an item written by something else (a
// migration, a console edit) fails loudly instead of flowing into the core with a wrong shape.
function stateFromItem(item: Item): ReactionState {
  const refItem = map(item, 'ref');
  const ref: ReactionRef = {
    team: str(item, 'team', refItem),
    item: str(item, 'item', refItem),
    user: str(item, 'user', refItem),
    reaction: str(item, 'reaction', refItem),
  };
  let pending: PendingCount | null = null;
  if (item['pending'] !== null && item['pending'] !== undefined) {
    const p = map(item, 'pending');
    const delta = num(item, 'delta', p);
    if (delta !== 1 && delta !== -1)
      throw new MalformedItemError('pending.delta is not +1/-1', item);
    pending = { delta, since: num(item, 'since', p) };
  }
  const present = item['present'];
  if (typeof present !== 'boolean') throw new MalformedItemError('present is not a boolean', item);
  return {
    key: str(item, 'key'),
    ref,
    baseEmoji: str(item, 'baseEmoji'),
    present,
    eventTs: str(item, 'eventTs'),
    rev: num(item, 'rev'),
    pending,
  };
}

function countFromItem(item: Item): EmojiCount {
  return { emoji: str(item, 'emoji'), count: num(item, 'count'), version: num(item, 'version') };
}
