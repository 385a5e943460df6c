/**
 * What Lambda's SQS event source mapping does on AWS, for the local stack: long-polls the inbox
 * queue (ElasticMQ), invokes the counting function with a batch through serverless-offline's
 * Lambda invoke API, and deletes the messages the function did not report in
 * `batchItemFailures` (`ReportBatchItemFailures`). A message it reports, or every message of a
 * batch whose invocation failed (function error, host down), becomes visible again after the
 * queue's visibility timeout and is received again; after `maxReceiveCount` receives ElasticMQ
 * moves it to the dead-letter queue, as SQS does.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface SqsPollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  /** `http://127.0.0.1:<lambda port>` of serverless-offline. */
  readonly lambdaEndpoint: string;
  /** The deployed name of the function (`reactometer-local-counter`). */
  readonly functionName: string;
  /** Messages per invocation (the event source mapping's batch size; SQS allows 1-10). */
  readonly batchSize?: number;
  /** Pollers in parallel (Lambda scales its pollers with the backlog). */
  readonly pollers?: number;
  readonly onError?: (err: unknown) => void;
}

export interface SqsPoller {
  /** Invocations made and messages deleted so far. */
  readonly stats: { invocations: number; deleted: number; failed: number };
  stop(): Promise<void>;
}

/** The SQS event Lambda hands a function (the fields the counting function reads, and the rest). */
function sqsEvent(messages: readonly Message[], queueArn: string) {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId,
      receiptHandle: m.ReceiptHandle,
      body: m.Body ?? '',
      attributes: m.Attributes ?? {},
      messageAttributes: {},
      md5OfBody: m.MD5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
    })),
  };
}

export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const stats = { invocations: 0, deleted: 0, failed: 0 };
  let running = true;
  const invokeUrl = `${options.lambdaEndpoint}/2015-03-31/functions/${options.functionName}/invocations`;

  const pollOnce = async (): Promise<void> => {
    const received = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: options.batchSize ?? 10,
        // Short long-polls: a stop waits at most this long.
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return;
    stats.invocations++;
    let failedIds: Set<string>;
    try {
      const res = await fetch(invokeUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sqsEvent(messages, options.queueArn)),
      });
      const text = await res.text();
      const result = JSON.parse(text) as {
        batchItemFailures?: { itemIdentifier?: string }[];
        errorMessage?: string;
      } | null;
      if (res.status !== 200 || typeof result?.errorMessage === 'string') {
        throw new Error(`invocation failed: ${res.status} ${text.slice(0, 200)}`);
      }
      failedIds = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier ?? ''));
    } catch (err) {
      // The whole batch comes back after the visibility timeout, as on AWS.
      stats.failed += messages.length;
      options.onError?.(err);
      return;
    }
    const done = messages.filter((m) => !failedIds.has(m.MessageId ?? ''));
    stats.failed += messages.length - done.length;
    if (done.length === 0) return;
    await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    stats.deleted += done.length;
  };

  const loops = Array.from({ length: options.pollers ?? 2 }, async () => {
    while (running) {
      try {
        await pollOnce();
      } catch (err) {
        // ElasticMQ or the host restarting: wait a moment and poll again.
        options.onError?.(err);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  });

  return {
    stats,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
