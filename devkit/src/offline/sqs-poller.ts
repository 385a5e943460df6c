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

/** Invokes the counting function with one SQS event; resolves with its `batchItemFailures`. */
export type InvokeBatch = (event: ReturnType<typeof sqsEvent>) => Promise<{
  batchItemFailures?: readonly { readonly itemIdentifier?: string }[];
}>;

/**
 * One turn of an event source mapping: receive up to `batchSize` messages, invoke, delete those
 * not reported as failed. Resolves with how many were received, deleted and left to come back.
 * A failed invocation leaves the whole batch to come back after the visibility timeout.
 */
export async function pumpOnce(options: {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly invoke: InvokeBatch;
  readonly batchSize?: number;
  readonly waitTimeSeconds?: number;
}): Promise<{ received: number; deleted: number; failed: number; error?: unknown }> {
  const received = await options.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: options.batchSize ?? 10,
      WaitTimeSeconds: options.waitTimeSeconds ?? 1,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  const messages = received.Messages ?? [];
  if (messages.length === 0) return { received: 0, deleted: 0, failed: 0 };
  let failedIds: Set<string>;
  try {
    const result = await options.invoke(sqsEvent(messages, options.queueArn));
    failedIds = new Set((result.batchItemFailures ?? []).map((f) => f.itemIdentifier ?? ''));
  } catch (error) {
    return { received: messages.length, deleted: 0, failed: messages.length, error };
  }
  const done = messages.filter((m) => !failedIds.has(m.MessageId ?? ''));
  if (done.length > 0) {
    await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return { received: messages.length, deleted: done.length, failed: messages.length - done.length };
}

/** Invokes a function through serverless-offline's Lambda invoke API. */
export function invokeOverHttp(lambdaEndpoint: string, functionName: string): InvokeBatch {
  const url = `${lambdaEndpoint}/2015-03-31/functions/${functionName}/invocations`;
  return async (event) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    const text = await res.text();
    const result = JSON.parse(text) as {
      batchItemFailures?: { itemIdentifier?: string }[];
      errorMessage?: string;
    } | null;
    if (res.status !== 200 || result === null || typeof result.errorMessage === 'string') {
      throw new Error(`invocation failed: ${res.status} ${text.slice(0, 200)}`);
    }
    return result;
  };
}

export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const stats = { invocations: 0, deleted: 0, failed: 0 };
  let running = true;
  const invoke = invokeOverHttp(options.lambdaEndpoint, options.functionName);

  const pollOnce = async (): Promise<void> => {
    const turn = await pumpOnce({
      sqs: options.sqs,
      queueUrl: options.queueUrl,
      queueArn: options.queueArn,
      invoke,
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    });
    if (turn.received > 0) stats.invocations++;
    stats.deleted += turn.deleted;
    stats.failed += turn.failed;
    if (turn.error !== undefined) options.onError?.(turn.error);
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
