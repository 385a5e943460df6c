/**
 * The inbox queues of infra/inbox.yml, created in ElasticMQ the way CloudFormation creates them
 * on AWS: a FIFO queue whose redrive policy sends a message to the dead-letter FIFO queue after
 * `maxReceiveCount` receives. Attributes are read from the template, so that the local queue is
 * the deployed one (the high-throughput FIFO settings, which ElasticMQ does not know, aside).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import yaml from 'js-yaml';
import { SERVERLESS_DIR } from '../workspaces.js';

export interface InboxQueues {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterUrl: string;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
}

interface QueueTemplate {
  readonly Properties: {
    readonly VisibilityTimeout?: number;
    readonly MessageRetentionPeriod?: number;
    readonly RedrivePolicy?: { readonly maxReceiveCount?: number };
  };
}

function template(): { inbox: QueueTemplate; dlq: QueueTemplate } {
  const doc = yaml.load(readFileSync(path.join(SERVERLESS_DIR, 'infra', 'inbox.yml'), 'utf8')) as {
    Resources: Record<string, QueueTemplate>;
  };
  const inbox = doc.Resources.InboxQueue;
  const dlq = doc.Resources.InboxDeadLetterQueue;
  if (inbox === undefined || dlq === undefined) throw new Error('infra/inbox.yml lacks its queues');
  return { inbox, dlq };
}

async function arnOf(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`no ARN for ${url}`);
  return arn;
}

/** Creates (or finds) `reactometer-<stage>-inbox.fifo` and its dead-letter queue. */
export async function createInboxQueues(
  sqs: SQSClient,
  stage: string,
  _region: string,
  visibilityTimeoutSeconds?: number,
): Promise<InboxQueues> {
  const { inbox, dlq } = template();
  const name = `reactometer-${stage}-inbox`;
  const retention = (q: QueueTemplate): Record<string, string> =>
    q.Properties.MessageRetentionPeriod === undefined
      ? {}
      : { MessageRetentionPeriod: String(q.Properties.MessageRetentionPeriod) };
  const dead = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}-dlq.fifo`,
      Attributes: { FifoQueue: 'true', ...retention(dlq) },
    }),
  );
  const deadLetterUrl = dead.QueueUrl as string;
  const visibility = visibilityTimeoutSeconds ?? inbox.Properties.VisibilityTimeout ?? 30;
  const maxReceiveCount = inbox.Properties.RedrivePolicy?.maxReceiveCount ?? 10;
  const created = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}.fifo`,
      Attributes: {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        VisibilityTimeout: String(visibility),
        ...retention(inbox),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: await arnOf(sqs, deadLetterUrl),
          maxReceiveCount,
        }),
      },
    }),
  );
  const queueUrl = created.QueueUrl as string;
  return {
    queueUrl,
    queueArn: await arnOf(sqs, queueUrl),
    deadLetterUrl,
    visibilityTimeoutSeconds: visibility,
    maxReceiveCount,
  };
}
