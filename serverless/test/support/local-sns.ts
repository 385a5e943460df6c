/**
 * serverless-offline-sns's SNS server (the one the local stack runs), started on its own for
 * handler tests, plus an HTTP endpoint subscribed to a topic that records every notification.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import ServerlessOfflineSns from 'serverless-offline-sns';

export interface LocalSns {
  readonly endpoint: string;
  /** Creates a topic and subscribes a recorder to it. */
  topicWithRecorder(
    name: string,
  ): Promise<{ readonly topicArn: string; readonly messages: string[] }>;
  stop(): Promise<void>;
}

interface SnsPlugin {
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startLocalSns(port: number, region = 'us-east-1'): Promise<LocalSns> {
  // The minimum of a Serverless instance the plugin reads: no functions, so it subscribes nothing.
  const serverless = {
    service: {
      service: 'reactometer',
      provider: { region, stage: 'test', environment: {} },
      custom: { 'serverless-offline-sns': { port, host: '127.0.0.1', accountId: '123456789012' } },
      functions: {},
    },
    config: { servicePath: process.cwd() },
    cli: { log: () => undefined },
  };
  const plugin = new (
    ServerlessOfflineSns as unknown as new (sls: unknown, options: unknown) => SnsPlugin
  )(serverless, {});
  await plugin.start();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new SNSClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const recorders: http.Server[] = [];

  return {
    endpoint,
    async topicWithRecorder(name) {
      const messages: string[] = [];
      const recorder = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const envelope = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            Message?: string;
          };
          if (typeof envelope.Message === 'string') messages.push(envelope.Message);
          res.end();
        });
      });
      await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
      recorders.push(recorder);
      const { TopicArn } = await client.send(new CreateTopicCommand({ Name: name }));
      await client.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: 'http',
          Endpoint: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/`,
        }),
      );
      return { topicArn: TopicArn!, messages };
    },
    async stop() {
      client.destroy();
      for (const r of recorders) {
        r.closeAllConnections();
        await new Promise<void>((resolve) => r.close(() => resolve()));
      }
      await plugin.stop();
    },
  };
}
