import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors.js';
import type { Clock } from '../ports.js';

/** Slack rejects replays older than five minutes; we also reject timestamps that far ahead. */
export const SIGNATURE_MAX_SKEW_SECONDS = 5 * 60;

const SIGNATURE_FORMAT = /^v0=([0-9a-f]{64})$/;
const TIMESTAMP_FORMAT = /^\d{1,15}$/;

export interface SignatureInput {
  /** The body exactly as received, before any parsing or re-encoding. */
  readonly rawBody: Uint8Array;
  /** Value of `X-Slack-Signature`, if present. */
  readonly signature: string | undefined;
  /** Value of `X-Slack-Request-Timestamp`, if present. */
  readonly timestamp: string | undefined;
}

function hmac(secret: string, timestamp: string, rawBody: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`v0:${timestamp}:`, 'utf8').update(rawBody).digest();
}

/** Computes the `X-Slack-Signature` value Slack would send for this body and timestamp. */
export function computeSlackSignature(
  secret: string,
  timestamp: string,
  rawBody: Uint8Array,
): string {
  return `v0=${hmac(secret, timestamp, rawBody).toString('hex')}`;
}

/**
 * Verifies a Slack request signature (v0, HMAC-SHA256 over `v0:{timestamp}:{raw body}`).
 * Throws `SignatureError` for a missing, malformed, stale or wrong signature; never throws
 * anything else, whatever the header values are.
 */
export function verifySlackSignature(input: SignatureInput, secret: string, clock: Clock): void {
  const { signature, timestamp, rawBody } = input;
  if (signature === undefined || signature === '') {
    throw new SignatureError('missing X-Slack-Signature header');
  }
  // Node and API Gateway both join repeated headers with commas, and no v0 signature holds one.
  // One rule on both deployments: two signatures are refused, even if one of them is right, as
  // Slack sends exactly one and a proxy that adds or duplicates one is not to be trusted.
  if (signature.includes(',')) {
    throw new SignatureError('more than one X-Slack-Signature header');
  }
  if (timestamp === undefined || !TIMESTAMP_FORMAT.test(timestamp)) {
    throw new SignatureError('missing or malformed X-Slack-Request-Timestamp header');
  }
  const skew = Math.abs(Math.floor(clock.now() / 1000) - Number(timestamp));
  if (skew > SIGNATURE_MAX_SKEW_SECONDS) {
    throw new SignatureError('request timestamp is more than 5 minutes from server time');
  }
  // Compare fixed-length digests only: a short or non-hex header simply fails to match, and
  // timingSafeEqual never sees buffers of different lengths (which would make it throw).
  const match = SIGNATURE_FORMAT.exec(signature.toLowerCase());
  const expected = hmac(secret, timestamp, rawBody);
  const given =
    match?.[1] !== undefined ? Buffer.from(match[1], 'hex') : Buffer.alloc(expected.length);
  if (!timingSafeEqual(given, expected) || match === null) {
    throw new SignatureError('signature does not match');
  }
}
