import {
  DeleteCommand,
  PutCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { ConnectionRecord, ConnectionRegistry, ScanSegment } from '@reactometer/shared';
import { toStoreError } from './dynamodb-client.js';

export interface DynamoConnectionRegistryOptions {
  /** Create it once per process (see `createDocumentClient`). */
  readonly client: DynamoDBDocumentClient;
  /** Hash key `connectionId` (S), TTL on `expiresAt`; see infra/tables.yml. */
  readonly table: string;
  /** Items read per Scan page, before the expiry filter (CONNECTIONS_PAGE_SIZE). */
  readonly pageSize: number;
}

type Item = Record<string, unknown>;

const NAMES = {
  '#id': 'connectionId',
  '#connectedAt': 'connectedAt',
  '#expiresAt': 'expiresAt',
} as const;

/**
 * The open WebSocket connections, one item per connection id: `{ connectionId, connectedAt,
 * expiresAt }`. Throws `StoreUnavailableError` when DynamoDB cannot be reached.
 */
export class DynamoConnectionRegistry implements ConnectionRegistry {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly pageSize: number;

  constructor(options: DynamoConnectionRegistryOptions) {
    this.client = options.client;
    this.table = options.table;
    this.pageSize = options.pageSize;
  }

  async add(record: ConnectionRecord): Promise<void> {
    try {
      // Unconditional: API Gateway never reuses a live id, and a retried $connect must not fail.
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            connectionId: record.id,
            connectedAt: record.connectedAt,
            expiresAt: record.expiresAt,
          },
        }),
      );
    } catch (err) {
      throw toStoreError(err, 'connections.add');
    }
  }

  async remove(id: string): Promise<void> {
    try {
      // DeleteItem of a missing key succeeds, so a $disconnect after a 410 cleanup is harmless.
      await this.client.send(
        new DeleteCommand({ TableName: this.table, Key: { connectionId: id } }),
      );
    } catch (err) {
      throw toStoreError(err, 'connections.remove');
    }
  }

  async *pages(
    nowSeconds: number,
    segment?: ScanSegment,
  ): AsyncIterable<readonly ConnectionRecord[]> {
    let startKey: Item | undefined;
    try {
      do {
        const page = await this.client.send(
          new ScanCommand({
            TableName: this.table,
            Limit: this.pageSize,
            // DynamoDB's TTL deletes expired items lazily, typically within days, and dynalite
            // never does, so an expired record can still be read: filter it out here rather than
            // post to a connection that API Gateway closed long ago (its 2-hour limit).
            FilterExpression: '#expiresAt > :now',
            ProjectionExpression: '#id, #connectedAt, #expiresAt',
            ExpressionAttributeNames: NAMES,
            ExpressionAttributeValues: { ':now': nowSeconds },
            // Eventually consistent (half the cost): a connection made a moment ago may miss one
            // update, but every dashboard asks for a snapshot right after connecting.
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
            // A parallel Scan: DynamoDB splits the table into `total` disjoint segments by key
            // hash, so the workers of a sharded fan-out never see the same connection.
            ...(segment === undefined || segment.total <= 1
              ? {}
              : { Segment: segment.index, TotalSegments: segment.total }),
          }),
        );
        // Limit counts items before the filter, so a page can come back empty while more follow.
        const records = (page.Items ?? []).map(recordFromItem);
        if (records.length > 0) yield records;
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
    } catch (err) {
      throw toStoreError(err, 'connections.pages');
    }
  }
}

function recordFromItem(item: Item): ConnectionRecord {
  const { connectionId, connectedAt, expiresAt } = item;
  if (
    typeof connectionId !== 'string' ||
    typeof connectedAt !== 'number' ||
    typeof expiresAt !== 'number'
  ) {
    throw new Error(`malformed connection item ${JSON.stringify(connectionId ?? null)}`);
  }
  return { id: connectionId, connectedAt, expiresAt };
}
