/**
 * `k6/crypto`, after internal/js/modules/k6/crypto/crypto.go (v2.2.0): hash functions and hmac
 * with an output encoding of "hex", "base64", "base64url", "base64rawurl" or "binary"
 * (an ArrayBuffer); Node's crypto computes the same digests.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { VuHost } from '../vu-host.js';

const ALGORITHMS: Record<string, string> = {
  md4: 'md4',
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  sha512_224: 'sha512-224',
  sha512_256: 'sha512-256',
  ripemd160: 'ripemd160',
};

function bytes(data: unknown): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (
    data instanceof ArrayBuffer ||
    Object.prototype.toString.call(data) === '[object ArrayBuffer]'
  ) {
    return Buffer.from(data as ArrayBuffer);
  }
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(String(data), 'utf8');
}

export function cryptoModule(host: VuHost): Record<string, unknown> {
  const algorithm = (name: unknown): string => {
    const a = ALGORITHMS[String(name)];
    if (a === undefined) throw host.error(`invalid algorithm: ${String(name)}`);
    return a;
  };
  const encode = (digest: Buffer, encoding: unknown): unknown => {
    switch (encoding ?? 'binary') {
      case 'hex':
        return digest.toString('hex');
      case 'base64':
        return digest.toString('base64');
      case 'base64url':
        return (
          digest.toString('base64url') +
          '='.repeat((4 - (digest.toString('base64url').length % 4)) % 4)
        );
      case 'base64rawurl':
        return digest.toString('base64url');
      case 'binary':
        return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength);
      default:
        throw host.error(`Invalid output encoding: ${String(encoding)}`);
    }
  };
  const hasher = (algo: unknown, key?: unknown) => {
    const h =
      key === undefined ? createHash(algorithm(algo)) : createHmac(algorithm(algo), bytes(key));
    return {
      update: (data: unknown) => void h.update(bytes(data)),
      digest: (enc?: unknown) => encode(h.digest(), enc),
    };
  };
  const digestFn = (algo: string) => (data: unknown, enc: unknown) =>
    encode(createHash(algorithm(algo)).update(bytes(data)).digest(), enc);
  const api: Record<string, unknown> = {
    createHash: (algo: unknown) => hasher(algo),
    createHMAC: (algo: unknown, key: unknown) => hasher(algo, key),
    hmac: (algo: unknown, key: unknown, data: unknown, enc: unknown) =>
      encode(createHmac(algorithm(algo), bytes(key)).update(bytes(data)).digest(), enc),
    randomBytes: (size: unknown) => {
      const b = randomBytes(Number(size));
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    },
  };
  for (const name of Object.keys(ALGORITHMS)) api[name] = digestFn(name);
  return { __esModule: true, default: api, ...api };
}
