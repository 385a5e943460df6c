/**
 * The fan-out's parts on top of the deployment's composition root: the coalescing gate, the
 * counts it flushes, its sender and the Lambda invoker. Only the fan-out handlers import this
 * file, so the lean sender's HTTP client is bundled into their artifacts alone.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import {
  systemClock,
  type ConnectionSender,
  type CountsReader,
  type FanOutGate,
} from '@reactometer/shared';
import { DynamoCountsReader } from '../adapters/dynamodb-counts-reader.js';
import { DynamoFanOutGate } from '../adapters/dynamodb-fanout-gate.js';
import { LambdaInvoker } from '../adapters/lambda-invoker.js';
import { LeanConnectionSender } from '../adapters/lean-connection-sender.js';
import type { CredentialsProvider } from '../adapters/signed-http.js';
import { once, type Composition } from '../composition.js';
import { loadFanOutConfig, requireManagementEndpoint, type FanOutConfig } from '../config.js';
import type { SegmentDeps } from './segment.js';

export interface FanOutComposition {
  readonly config: () => FanOutConfig;
  readonly gate: () => FanOutGate;
  readonly countsReader: () => CountsReader;
  /** The fan-out's sender (FANOUT_SENDER: lean, or the SDK client), one per endpoint. */
  readonly sender: (endpoint: string) => ConnectionSender;
  /** Lambda's Invoke API: the fan-out's workers and its hand-off. */
  readonly invoker: () => LambdaInvoker;
  /** What a segment of a fan-out runs with (the registry, this function's sender, the limits). */
  readonly segmentDeps: () => SegmentDeps;
}

export function createFanOutComposition(app: Composition): FanOutComposition {
  const config = once(() => loadFanOutConfig(app.env));
  // The chain the SDK clients use (in Lambda: the role's keys from the environment), memoised
  // and refreshed by the SDK before they expire.
  const credentials = once((): CredentialsProvider => defaultProvider());

  const gate = once(
    (): FanOutGate =>
      new DynamoFanOutGate({ client: app.documentClient(), table: config().gateTable }),
  );
  const countsReader = once(
    (): CountsReader =>
      new DynamoCountsReader({
        client: app.documentClient(),
        table: app.storeConfig().countsTable,
      }),
  );

  const senders = new Map<string, ConnectionSender>();
  const sender = (endpoint: string): ConnectionSender => {
    let existing = senders.get(endpoint);
    if (existing === undefined) {
      const { concurrency, sendTimeoutMs } = app.senderConfig();
      existing =
        config().sender === 'sdk'
          ? app.sender(endpoint)
          : new LeanConnectionSender({
              endpoint,
              region: app.runtime().region,
              credentials: credentials(),
              connections: concurrency,
              sendTimeoutMs,
            });
      senders.set(endpoint, existing);
    }
    return existing;
  };

  const invoker = once(
    () =>
      new LambdaInvoker({
        region: app.runtime().region,
        endpoint: config().lambdaEndpoint,
        credentials: credentials(),
        connections: config().shards.maxWorkers,
      }),
  );

  const segmentDeps = once((): SegmentDeps => {
    const senderConfig = app.senderConfig();
    return {
      registry: app.registry(),
      sender: sender(requireManagementEndpoint(senderConfig)),
      clock: systemClock,
      concurrency: senderConfig.concurrency,
      maxAttempts: senderConfig.maxAttempts,
      baseBackoffMs: senderConfig.baseBackoffMs,
    };
  });

  return { config, gate, countsReader, sender, invoker, segmentDeps };
}
