/**
 * Both senders (the lean one and the SDK v3 client) against the @connections STAND-IN, which
 * answers as API Gateway documents it: SigV4 checked for form, 410 GoneException, 429
 * LimitExceededException from a token bucket, 413 past 128 KB, after a chosen latency.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GoneConnectionError, ThrottledError, type ConnectionSender } from '@reactometer/shared';
import { startConnectionsStandin, type ConnectionsStandin } from '@reactometer/devkit/aws-standins';
import { ApiGatewaySender, createManagementClient } from '../src/adapters/api-gateway-sender.js';
import { LeanConnectionSender } from '../src/adapters/lean-connection-sender.js';
import { DeadlineExceededError } from '../src/adapters/signed-http.js';

const credentials = { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'not-a-secret' };
let standin: ConnectionsStandin;
const closers: (() => Promise<void>)[] = [];

function lean(sendTimeoutMs = 2_000): LeanConnectionSender {
  const sender = new LeanConnectionSender({
    endpoint: standin.endpoint,
    region: 'eu-west-1',
    credentials: async () => credentials,
    connections: 8,
    sendTimeoutMs,
  });
  closers.push(() => sender.close());
  return sender;
}

function sdk(): ConnectionSender {
  const client = createManagementClient({
    endpoint: standin.endpoint,
    region: 'eu-west-1',
    maxSockets: 8,
    requestTimeoutMs: 2_000,
  });
  client.config.credentials = async () => credentials;
  closers.push(async () => client.destroy());
  return new ApiGatewaySender(client);
}

beforeAll(async () => {
  standin = await startConnectionsStandin({ region: 'eu-west-1', rateLimit: null });
});

afterAll(async () => {
  for (const close of closers) await close();
  await standin?.close();
});

describe.each([
  ['lean (aws4 + undici)', () => lean()],
  ['SDK v3 client', () => sdk()],
])('%s against the stand-in', (_name, make) => {
  it('delivers to a held connection, signed in a form the stand-in accepts', async () => {
    const id = `ok-${_name.length}=`;
    standin.addConnections([id]);
    await make().send(id, '{"type":"update","reactions":[]}');
    expect(standin.deliveries(id)).toBe(1);
    expect(standin.stats().badSignature).toBe(0);
  });

  it('maps 410 to GoneConnectionError and 429 to ThrottledError', async () => {
    const sender = make();
    await expect(sender.send('never-connected=', 'x')).rejects.toBeInstanceOf(GoneConnectionError);
    standin.addConnections(['busy=']);
    standin.setRateLimit({ ratePerSecond: 0.001, burst: 1 });
    try {
      await sender.send('busy=', 'x');
      await expect(sender.send('busy=', 'x')).rejects.toBeInstanceOf(ThrottledError);
    } finally {
      standin.setRateLimit(null);
    }
  });
});

describe('the lean sender', () => {
  it('fails a post that is not answered within its deadline, without waiting for the answer', async () => {
    standin.addConnections(['slow=']);
    standin.setLatency({ kind: 'fixed', ms: 3_000 });
    try {
      const started = Date.now();
      await expect(lean(200).send('slow=', 'x')).rejects.toBeInstanceOf(DeadlineExceededError);
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(190);
      expect(took).toBeLessThan(1_500);
    } finally {
      standin.setLatency({ kind: 'fixed', ms: 0 });
    }
  });

  it('takes a 413 past 128 KB as a plain failure, neither gone nor throttled', async () => {
    standin.addConnections(['big=']);
    const err = await lean()
      .send('big=', 'x'.repeat(128 * 1024 + 1))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'PostToConnectionError', status: 413 });
  });

  it('is answered 403 without a signature (what the stand-in checks)', async () => {
    const res = await fetch(`${standin.endpoint}/@connections/ok-1=`, {
      method: 'POST',
      body: 'x',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    const forged = await fetch(`${standin.endpoint}/@connections/ok-1=`, {
      method: 'POST',
      body: 'x',
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKID/20261127/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc',
        'x-amz-date': '20261127T120000Z',
      },
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('x-amzn-errortype')).toBe('IncompleteSignatureException');
  });
});
