/**
 * Writes a count with its version into the counts table, only where no count exists. The
 * `ReactionStore` port cannot do this (`setCount` starts a new count at version 1), and the
 * version matters: dashboards drop updates whose version is not newer than what they hold.
 *
 * The item shape `{ emoji, count, version }` is the one `DynamoReactionStore` reads and writes
 * (see adapters/dynamodb-reaction-store.ts); the migration verifies every count it wrote by
 * reading it back through that adapter, so a shape drift here would fail the verification.
 */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EmojiCount } from '@reactometer/shared';
import { isConditionalCheckFailed, toStoreError } from '../adapters/dynamodb-client.js';
import type { CountInserter } from './migrate-mongo-to-dynamodb.js';

export class DynamoCountInserter implements CountInserter {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly countsTable: string,
  ) {}

  async insertCount(count: EmojiCount): Promise<boolean> {
    if (!Number.isSafeInteger(count.count) || count.count < 0) {
      throw new RangeError(`count of ${count.emoji} must be a non-negative integer`);
    }
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.countsTable,
          Item: { emoji: count.emoji, count: count.count, version: count.version },
          // `emoji` is not reserved today, `count` is: names go through placeholders throughout.
          ConditionExpression: 'attribute_not_exists(#emoji)',
          ExpressionAttributeNames: { '#emoji': 'emoji' },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw toStoreError(err, 'migrate.insertCount');
    }
  }
}
