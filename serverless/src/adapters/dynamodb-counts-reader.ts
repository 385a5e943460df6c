import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CountsReader, EmojiCount } from '@reactometer/shared';
import { toStoreError } from './dynamodb-client.js';

export interface DynamoCountsReaderOptions {
  readonly client: DynamoDBDocumentClient;
  /** Hash key `emoji`; see infra/tables.yml. */
  readonly table: string;
}

/** BatchGetItem takes at most 100 keys. */
const BATCH = 100;
/** Rounds for keys DynamoDB left unprocessed (throttling) before giving up on the flush. */
const MAX_ROUNDS = 5;

/**
 * The counts a coalesced flush sends, read strongly consistent: the Slack handler commits a count
 * before it publishes the change, so this read is never older than any change the flush merges.
 */
export class DynamoCountsReader implements CountsReader {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoCountsReaderOptions) {
    this.client = options.client;
    this.table = options.table;
  }

  async getCounts(emojis: readonly string[]): Promise<EmojiCount[]> {
    const out: EmojiCount[] = [];
    const unique = [...new Set(emojis)];
    try {
      for (let i = 0; i < unique.length; i += BATCH) {
        let keys: Record<string, unknown>[] = unique
          .slice(i, i + BATCH)
          .map((emoji) => ({ emoji }));
        for (let round = 0; keys.length > 0; round++) {
          if (round === MAX_ROUNDS) throw new Error(`${keys.length} counts left unprocessed`);
          const res = await this.client.send(
            new BatchGetCommand({
              RequestItems: {
                [this.table]: {
                  Keys: keys,
                  ConsistentRead: true,
                  ProjectionExpression: '#emoji, #count, #version',
                  ExpressionAttributeNames: {
                    '#emoji': 'emoji',
                    '#count': 'count',
                    '#version': 'version',
                  },
                },
              },
            }),
          );
          for (const item of res.Responses?.[this.table] ?? []) {
            const { emoji, count, version } = item;
            if (
              typeof emoji === 'string' &&
              typeof count === 'number' &&
              typeof version === 'number'
            )
              out.push({ emoji, count, version });
          }
          keys = (res.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
        }
      }
    } catch (err) {
      throw toStoreError(err, 'counts.getCounts');
    }
    return out;
  }
}
