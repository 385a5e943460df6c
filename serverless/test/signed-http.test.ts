/**
 * The lean sender's SigV4 headers (aws4) are the AWS SDK's: the same PostToConnection request,
 * signed by aws4 and by @smithy/signature-v4 (what the SDK v3 clients sign with), carries the same
 * Authorization header, the double-encoded `@connections/{id}` path included.
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { SignatureV4 } from '@smithy/signature-v4';
import { signPost } from '../src/adapters/signed-http.js';

/** The SDK's hash interface on Node's crypto (what @smithy/hash-node does). */
type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Data): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

class Sha256 {
  private readonly hash;
  constructor(secret?: Data) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};

describe('signPost', () => {
  it.each([
    ['a connection id with = and a stage', '/prod', 'L0SM9cOFvHcCIhw='],
    ['an id with + and /', '/dev', 'a+b/c='],
    ['no stage (serverless-offline)', '', 'abcDEF123='],
  ])('signs PostToConnection exactly as the SDK does: %s', async (_what, stage, id) => {
    const host = 'abc123.execute-api.eu-west-1.amazonaws.com';
    const body = Buffer.from(
      '{"type":"update","reactions":[{"emoji":"+1","count":1,"version":1}]}',
    );
    const bodyHash = createHash('sha256').update(body).digest('hex');
    const path = `${stage}/@connections/${encodeURIComponent(id)}`;
    const ours = signPost({
      host,
      path,
      service: 'execute-api',
      region: 'eu-west-1',
      body,
      bodyHash,
      credentials,
      headers: { 'X-Amz-Date': '20261127T120000Z' },
    });
    const sdk = await new SignatureV4({
      service: 'execute-api',
      region: 'eu-west-1',
      credentials,
      sha256: Sha256,
    }).sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: host,
        path,
        query: {},
        headers: {
          host,
          'content-type': 'application/json',
          'content-length': String(body.length),
          'x-amz-content-sha256': bodyHash,
        },
        body,
      },
      { signingDate: new Date('2026-11-27T12:00:00Z') },
    );
    expect(ours.Authorization).toBe(sdk.headers.authorization);
    expect(ours.Authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261127\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(ours['X-Amz-Security-Token']).toBe(credentials.sessionToken);
  });
});
