/**
 * The serverless inbox: an SQS FIFO queue between `POST /slack/events` and the counting
 * function. The edge answers 200 once SQS has accepted the event (SQS stores it redundantly
 * before it answers), which does not depend on DynamoDB at all. FIFO, because:
 * - `MessageDeduplicationId` = the event's id: SQS drops a Slack retry of an event it accepted in
 *   the last 5 minutes (idempotent by `event_id` without a table of our own);
 * - `MessageGroupId` = the reaction: the events of one reaction reach the counting function in
 *   arrival order, while different reactions are applied in parallel.
 * Both ids are SHA-256 hex digests: SQS allows only 128 ASCII characters, and neither Slack's ids
 * nor emoji names are bound to that.
 */
import { createHash } from 'node:crypto';
import { GetQueueAttributesCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  OverloadedError,
  StoreUnavailableError,
  encodeInboxEvent,
  itemKey,
  reactionKey,
  type AppendOutcome,
  type Clock,
  type EventInbox,
  type InboxStatus,
  type ReactionEvent,
} from '@reactometer/shared';

export interface SqsClientOptions {
  readonly region: string;
  /** ElasticMQ locally; omitted: the regional SQS endpoint. */
  readonly endpoint?: string;
  readonly requestTimeoutMs: number;
}

export function createSqsClient(options: SqsClientOptions): SQSClient {
  return new SQSClient({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    // One attempt, bounded: Slack waits 3 s, and a 503 (Slack retries) beats a late 200.
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: Math.min(options.requestTimeoutMs, 1000),
      requestTimeout: options.requestTimeoutMs,
    }),
  });
}

export interface SqsInboxOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Messages waiting beyond which appends are refused with 503 `overloaded`. */
  readonly maxPending: number;
  readonly clock: Clock;
  /** How long one reading of the queue depth serves a warm container (default 1 s). */
  readonly depthTtlMs?: number;
}

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Seconds a refused sender is asked to wait when the backlog is full. */
const RETRY_AFTER_FULL_S = 30;

export class SqsInbox implements EventInbox {
  private depth: { pending: number; at: number } | null = null;
  private reading: Promise<number> | null = null;

  constructor(private readonly options: SqsInboxOptions) {}

  async append(event: ReactionEvent): Promise<AppendOutcome> {
    const pending = await this.pendingBestEffort();
    if (pending !== null && pending >= this.options.maxPending) {
      throw new OverloadedError(
        `the inbox holds ${pending} events not yet counted`,
        RETRY_AFTER_FULL_S,
      );
    }
    const group = reactionKey({
      team: event.team,
      item: itemKey(event.item),
      user: event.user,
      reaction: event.reaction,
    });
    try {
      await this.options.client.send(
        new SendMessageCommand({
          QueueUrl: this.options.queueUrl,
          MessageBody: encodeInboxEvent(event),
          MessageGroupId: digest(group),
          MessageDeduplicationId: digest(event.eventId),
        }),
      );
    } catch (err) {
      throw new StoreUnavailableError('the inbox queue did not accept the event', { cause: err });
    }
    // SQS answers a deduplicated send like a new one: the two cannot be told apart here.
    return 'appended';
  }

  /** What `/healthz` reports: messages waiting or being applied. SQS does not tell their age. */
  async status(): Promise<InboxStatus> {
    const pending = await this.readDepth();
    return { pending, oldestAgeMs: 0, draining: pending > 0, lastErrorCode: null };
  }

  /** The cached depth; an unreadable depth does not block the append (the send decides). */
  private async pendingBestEffort(): Promise<number | null> {
    const now = this.options.clock.now();
    if (this.depth !== null && now - this.depth.at < (this.options.depthTtlMs ?? 1000)) {
      return this.depth.pending;
    }
    try {
      return await this.readDepth();
    } catch {
      return null;
    }
  }

  private readDepth(): Promise<number> {
    this.reading ??= (async () => {
      try {
        const { Attributes: a = {} } = await this.options.client.send(
          new GetQueueAttributesCommand({
            QueueUrl: this.options.queueUrl,
            AttributeNames: [
              'ApproximateNumberOfMessages',
              'ApproximateNumberOfMessagesNotVisible',
            ],
          }),
        );
        const pending =
          Number(a.ApproximateNumberOfMessages ?? 0) +
          Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
        this.depth = { pending, at: this.options.clock.now() };
        return pending;
      } finally {
        this.reading = null;
      }
    })();
    return this.reading;
  }
}
