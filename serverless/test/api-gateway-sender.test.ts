/**
 * The management API adapter with the real SDK against responses shaped like AWS's: SDK v3 errors
 * carry `name` and `$metadata.httpStatusCode`, never `statusCode`, so that is what must be read.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { GoneConnectionError, ThrottledError } from '@reactometer/shared';
import {
  ApiGatewaySender,
  createManagementClient,
  isGoneError,
  isThrottleError,
  toSenderError,
} from '../src/adapters/api-gateway-sender.js';
import { startManagementApi, type ManagementApi } from './support/aws-management-api.js';

let api: ManagementApi;
let sender: ApiGatewaySender;
let client: ReturnType<typeof createManagementClient>;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  api = await startManagementApi();
  client = createManagementClient({
    endpoint: api.endpoint,
    region: 'us-east-1',
    maxSockets: 8,
    requestTimeoutMs: 300,
  });
  sender = new ApiGatewaySender(client);
});
afterAll(async () => {
  client?.destroy();
  await api?.stop();
});
beforeEach(() => api.reset());

describe('ApiGatewaySender (AWS-shaped answers)', () => {
  it('posts the frame to the connection', async () => {
    api.open.add('abc=');
    await sender.send('abc=', '{"type":"pong"}');
    expect(api.received.get('abc=')).toEqual(['{"type":"pong"}']);
  });

  it('maps 410 GoneException to GoneConnectionError naming the id', async () => {
    const err = await sender.send('gone=', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoneConnectionError);
    expect((err as Error).message).toContain('gone=');
  });

  it('maps 429 LimitExceededException to ThrottledError, in one SDK attempt (the core does the backoff)', async () => {
    api.open.add('busy=');
    api.throttle.set('busy=', 1);
    await expect(sender.send('busy=', 'x')).rejects.toBeInstanceOf(ThrottledError);
    expect(api.log).toEqual([{ id: 'busy=', status: 429 }]);
  });

  it('leaves other errors (403 ForbiddenException) as they are: not gone, not throttled', async () => {
    api.forbidden.add('nope=');
    const err = await sender.send('nope=', 'x').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(GoneConnectionError);
    expect(err).not.toBeInstanceOf(ThrottledError);
    expect((err as { name?: string }).name).toBe('ForbiddenException');
  });

  it('gives up on a slow answer after the per-call timeout, without calling it gone', async () => {
    api.open.add('slow=');
    api.delayMs = 2000;
    const started = Date.now();
    const err = await sender.send('slow=', 'x').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(err).not.toBeInstanceOf(GoneConnectionError);
    expect(err).toBeInstanceOf(Error);
  });
});

describe('error classification', () => {
  it('recognises gone by name or by $metadata, never by a statusCode property', () => {
    expect(isGoneError({ name: 'GoneException' })).toBe(true);
    expect(isGoneError({ name: 'UnknownError', $metadata: { httpStatusCode: 410 } })).toBe(true);
    expect(isGoneError({ statusCode: 410 })).toBe(false);
    expect(isGoneError(new Error('410'))).toBe(false);
    expect(isGoneError(null)).toBe(false);
  });

  it('recognises throttling by name or by $metadata', () => {
    for (const name of [
      'LimitExceededException',
      'TooManyRequestsException',
      'ThrottlingException',
    ]) {
      expect(isThrottleError({ name })).toBe(true);
    }
    expect(isThrottleError({ $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isThrottleError({ statusCode: 429 })).toBe(false);
  });

  it('keeps the SDK error as the cause', () => {
    const sdkError = { name: 'GoneException', $metadata: { httpStatusCode: 410 } };
    const mapped = toSenderError(sdkError, 'id=') as GoneConnectionError;
    expect(mapped.cause).toBe(sdkError);
  });
});
