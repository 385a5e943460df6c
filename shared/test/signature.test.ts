import { describe, expect, it } from '@jest/globals';
import { computeSlackSignature, SignatureError, verifySlackSignature } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';

// Vectors computed independently with Python's hmac module (see the closing note of issue 2).
const UTF8_BODY = Buffer.from(
  '7b2274797065223a226576656e745f63616c6c6261636b222c226576656e74223a7b227265616374696f6e223a22636166c3a95fc3bc222c2274657874223a22f09f918d206e61c3af7665227d7d',
  'hex',
);
const UTF8_SIG = 'v0=4bed13c1e262f716ed7bc86ce3856bf14658fc51131c1f0c4b0b416bbdea4f26';
// Not valid UTF-8 (a lone Latin-1 0xE9): the MAC is over bytes, so it must still verify.
const LATIN1_BODY = Buffer.from([0x7b, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]);
const LATIN1_SIG = 'v0=edff6d429387957f53dd81292e668f4fa099f0d434aec0aa800b29efee87ec4c';

const clockAt = (seconds: number) => new ManualClock(seconds * 1000);

describe('computeSlackSignature', () => {
  it('matches independently computed vectors, including non-ASCII bytes and secret', () => {
    expect(computeSlackSignature('s3cr3t-ü', '1700000000', UTF8_BODY)).toBe(UTF8_SIG);
    expect(computeSlackSignature('s3cr3t', '1700000000', LATIN1_BODY)).toBe(LATIN1_SIG);
  });
});

describe('verifySlackSignature', () => {
  const ok = { rawBody: UTF8_BODY, signature: UTF8_SIG, timestamp: '1700000000' };

  it('accepts a correct signature within the window, on raw bytes', () => {
    expect(() => verifySlackSignature(ok, 's3cr3t-ü', clockAt(1700000000))).not.toThrow();
    expect(() =>
      verifySlackSignature(
        { rawBody: LATIN1_BODY, signature: LATIN1_SIG, timestamp: '1700000000' },
        's3cr3t',
        clockAt(1700000100),
      ),
    ).not.toThrow();
  });

  it('accepts upper-case hex', () => {
    expect(() =>
      verifySlackSignature(
        { ...ok, signature: `v0=${UTF8_SIG.slice(3).toUpperCase()}` },
        's3cr3t-ü',
        clockAt(1700000000),
      ),
    ).not.toThrow();
  });

  it.each([
    ['exactly 5 minutes old', 1700000300, true],
    ['exactly 5 minutes ahead', 1699999700, true],
    ['5 minutes and 1 second old', 1700000301, false],
    ['5 minutes and 1 second ahead', 1699999699, false],
  ])('window: %s', (_label, nowSeconds, accepted) => {
    const run = () => verifySlackSignature(ok, 's3cr3t-ü', clockAt(nowSeconds));
    if (accepted) expect(run).not.toThrow();
    else expect(run).toThrow(/5 minutes/);
  });

  it.each([
    ['missing signature', { signature: undefined }],
    ['empty signature', { signature: '' }],
    ['missing timestamp', { timestamp: undefined }],
    ['non-numeric timestamp', { timestamp: '17e8' }],
    ['short signature', { signature: 'v0=abc' }],
    ['wrong version prefix', { signature: `v1=${UTF8_SIG.slice(3)}` }],
    ['non-hex signature of the right length', { signature: `v0=${'z'.repeat(64)}` }],
    ['signature one hex digit too long', { signature: `${UTF8_SIG}0` }],
    ['wrong signature', { signature: `v0=${'0'.repeat(64)}` }],
    ['altered body', { rawBody: Buffer.concat([UTF8_BODY, Buffer.from(' ')]) }],
    ['different timestamp than signed', { timestamp: '1700000001' }],
  ])('rejects %s with SignatureError and never another error', (_label, change) => {
    const input = { ...ok, ...change };
    let thrown: unknown;
    try {
      verifySlackSignature(input, 's3cr3t-ü', clockAt(1700000000));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SignatureError);
    expect((thrown as SignatureError).code).toBe('invalid_signature');
  });

  it('rejects the right signature under the wrong secret', () => {
    expect(() => verifySlackSignature(ok, 'other', clockAt(1700000000))).toThrow(SignatureError);
  });
});

describe('two X-Slack-Signature headers', () => {
  it('are refused even when one of them is right (Node and API Gateway join them with a comma)', () => {
    const input = {
      rawBody: UTF8_BODY,
      signature: `v0=${'0'.repeat(64)}, ${UTF8_SIG}`,
      timestamp: '1700000000',
    };
    expect(() => verifySlackSignature(input, 's3cr3t-ü', clockAt(1700000000))).toThrow(
      new SignatureError('more than one X-Slack-Signature header'),
    );
    expect(() =>
      verifySlackSignature(
        { ...input, signature: `${UTF8_SIG},${UTF8_SIG}` },
        's3cr3t-ü',
        clockAt(1700000000),
      ),
    ).toThrow('more than one X-Slack-Signature header');
  });
});
