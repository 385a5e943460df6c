import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { updateMessage, type EmojiCount, type Publisher } from '@reactometer/shared';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface SnsClientOptions {
  readonly region: string;
  /** Local SNS (serverless-offline-sns) URL; omit to use the regional AWS endpoint. */
  readonly endpoint?: string;
  /** Longest time one Publish attempt may take. */
  readonly requestTimeoutMs: number;
}

/**
 * An SNS client that fails fast: the Slack handler publishes after the change is durable and
 * before it answers, inside Slack's 3-second deadline, so a hung Publish must not hold it. One
 * retry covers a dropped keep-alive socket. Create it once per process (module scope).
 */
export function createSnsClient(options: SnsClientOptions): SNSClient {
  const agent = { keepAlive: true, maxSockets: 8 };
  return new SNSClient({
    region: options.region,
    maxAttempts: 2,
    ...(options.endpoint === undefined
      ? {}
      : {
          endpoint: options.endpoint,
          // The local SNS checks no signature: fixed credentials mean no AWS account is needed.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: Math.min(options.requestTimeoutMs, 1000),
      requestTimeout: options.requestTimeoutMs,
      throwOnRequestTimeout: true,
      httpAgent: new Agent(agent),
      httpsAgent: new HttpsAgent(agent),
    }),
  });
}

export interface SnsPublisherOptions {
  readonly client: SNSClient;
  readonly topicArn: string;
}

/**
 * The core's `Publisher` on an SNS topic: each change becomes one message carrying the contract's
 * `update` frame with absolute counts, so the fan-out forwards it unchanged and a repeated SNS
 * delivery is harmless. Errors propagate; the core treats publishing as best effort.
 */
export class SnsPublisher implements Publisher {
  private readonly client: SNSClient;
  private readonly topicArn: string;

  constructor(options: SnsPublisherOptions) {
    this.client = options.client;
    this.topicArn = options.topicArn;
  }

  async publish(counts: readonly EmojiCount[]): Promise<void> {
    if (counts.length === 0) return;
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Message: JSON.stringify(updateMessage(counts)),
      }),
    );
  }
}
