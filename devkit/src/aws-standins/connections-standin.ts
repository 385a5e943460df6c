/**
 * A STAND-IN for API Gateway's `@connections` management API as AWS runs it, for what cannot run
 * here: serverless-offline's own endpoint never throttles, checks no signature and answers at
 * local speed. This one answers `POST /{stage}/@connections/{id}` the way the AWS quotas page and
 * the SDK's error model describe API Gateway:
 *
 * - every request must carry a well-formed SigV4 `Authorization` header (algorithm, credential
 *   scope for `execute-api`, signed headers including host and x-amz-date, 64 hex digits of
 *   signature) and an `x-amz-date` matching the scope's date, else 403;
 * - a token bucket (default 10,000 requests/s, burst 5,000: the account's throttle) answers
 *   429 `LimitExceededException` when empty;
 * - 413 `PayloadTooLargeException` past 128 KB, 410 `GoneException` for an id it does not hold;
 * - every answer comes after a latency drawn from a configurable distribution.
 *
 * It is not AWS: it checks the signature's shape, not its value, and its latency is whatever it
 * is told. It counts every post per connection id, so tests can check coverage and "never twice".
 * Errors carry API Gateway's `x-amzn-ErrorType` header and a JSON `{"message": ...}` body, which
 * is what the SDK v3 client maps to its named exceptions.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { assertServersAllowed } from '../server-guard.js';
import {
  latencySampler,
  seededRandom,
  type LatencyDistribution,
} from '../measure/distributions.js';

/** API Gateway's quota page: 10,000 requests/s with a bucket of 5,000, per account and region. */
export const AWS_DEFAULT_THROTTLE = { ratePerSecond: 10_000, burst: 5_000 } as const;
/** API Gateway WebSocket messages: 128 KB at most. */
export const MAX_POST_BYTES = 128 * 1024;

export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export interface ConnectionsStandinOptions {
  /** Default 127.0.0.1 (the stand-in refuses anything but loopback). */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Path segment before `@connections` (AWS: the stage); '' for none. Default `prod`. */
  readonly stage?: string;
  /** Region the credential scope must name; default: any. */
  readonly region?: string;
  /** Default: answer at once. */
  readonly latency?: LatencyDistribution;
  /** Default AWS_DEFAULT_THROTTLE; null: never throttle. */
  readonly rateLimit?: RateLimit | null;
  /** Connection ids that exist (others get 410). */
  readonly connections?: Iterable<string>;
  /** Seed of the latency draws. */
  readonly seed?: number;
}

export interface StandinStats {
  readonly requests: number;
  readonly delivered: number;
  readonly throttled: number;
  readonly gone: number;
  readonly tooLarge: number;
  readonly badSignature: number;
  readonly notFound: number;
  /** Connection ids posted to more than once with a 200. */
  readonly deliveredTwice: number;
  /** Ids held that never got a 200. */
  readonly neverDelivered: number;
  /** Wall-clock ms (performance.timeOrigin + now) of the first and last 200. */
  readonly firstDeliveryAt: number | null;
  readonly lastDeliveryAt: number | null;
}

export interface ConnectionsStandin {
  /** `http://127.0.0.1:port/prod`: the management endpoint to configure a sender with. */
  readonly endpoint: string;
  readonly port: number;
  addConnections(ids: Iterable<string>): void;
  removeConnections(ids: Iterable<string>): void;
  setLatency(latency: LatencyDistribution): void;
  setRateLimit(limit: RateLimit | null): void;
  /** 200s per connection id (undefined: never delivered). */
  deliveries(id: string): number;
  /** Wall-clock ms of every 200 answered, in order (for delivery-time histograms). */
  deliveryTimes(): readonly number[];
  stats(): StandinStats;
  /** Forgets counts and times (the connections and settings stay). */
  resetCounts(): void;
  close(): Promise<void>;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([A-Za-z0-9]{1,128})\/(\d{8})\/([a-z0-9-]+)\/execute-api\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{8})T\d{6}Z$/;

/** Why a request's SigV4 header is not well-formed, or null when it is. */
export function sigv4Problem(
  headers: http.IncomingHttpHeaders,
  region: string | undefined,
): { readonly type: string; readonly message: string } | null {
  const auth = headers.authorization;
  if (auth === undefined) {
    return { type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  }
  const m = AUTHORIZATION.exec(auth);
  if (m === null) {
    return {
      type: 'IncompleteSignatureException',
      message: 'Authorization header requires Credential, SignedHeaders and Signature (SigV4)',
    };
  }
  const [, , scopeDate, scopeRegion, signedHeaders] = m;
  const date = AMZ_DATE.exec(String(headers['x-amz-date'] ?? ''));
  if (date === null) {
    return { type: 'IncompleteSignatureException', message: 'x-amz-date is missing or malformed' };
  }
  if (date[1] !== scopeDate) {
    return {
      type: 'InvalidSignatureException',
      message: `credential scope date ${scopeDate} does not match x-amz-date ${date[1]}`,
    };
  }
  if (region !== undefined && scopeRegion !== region) {
    return {
      type: 'InvalidSignatureException',
      message: `credential scope region ${scopeRegion} is not ${region}`,
    };
  }
  const names = signedHeaders!.split(';');
  const sorted = [...names].sort();
  if (!names.includes('host') || !names.includes('x-amz-date') || names.join() !== sorted.join()) {
    return {
      type: 'InvalidSignatureException',
      message: 'SignedHeaders must be sorted and include host and x-amz-date',
    };
  }
  for (const name of names) {
    if (headers[name] === undefined) {
      return { type: 'InvalidSignatureException', message: `signed header ${name} is missing` };
    }
  }
  return null;
}

function answer(
  res: http.ServerResponse,
  status: number,
  type: string | null,
  message: string | null,
): void {
  const body = status === 200 ? '' : JSON.stringify({ message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': '00000000-0000-0000-0000-000000000000',
    ...(type === null ? {} : { 'x-amzn-errortype': type }),
  });
  res.end(body);
}

const wallNow = (): number => performance.timeOrigin + performance.now();

export async function startConnectionsStandin(
  options: ConnectionsStandinOptions = {},
): Promise<ConnectionsStandin> {
  assertServersAllowed('the @connections stand-in');
  const host = options.host ?? '127.0.0.1';
  if (!/^127\.\d+\.\d+\.\d+$/.test(host)) {
    throw new Error(`the @connections stand-in listens on 127.0.0.0/8 only, not ${host}`);
  }
  const stage = options.stage ?? 'prod';
  const prefix = stage === '' ? '/@connections/' : `/${stage}/@connections/`;
  const random = seededRandom(options.seed ?? 1);
  let sample = latencySampler(options.latency ?? { kind: 'fixed', ms: 0 }, random);
  let limit: RateLimit | null =
    options.rateLimit === undefined ? AWS_DEFAULT_THROTTLE : options.rateLimit;
  let tokens = limit?.burst ?? 0;
  let refilledAt = performance.now();
  const held = new Set<string>(options.connections ?? []);
  const posts = new Map<string, number>();
  let times: number[] = [];
  const counts = {
    requests: 0,
    delivered: 0,
    throttled: 0,
    gone: 0,
    tooLarge: 0,
    badSignature: 0,
    notFound: 0,
  };

  /** Takes one token from the bucket; false when it is empty (API Gateway answers 429). */
  const admit = (): boolean => {
    if (limit === null) return true;
    const now = performance.now();
    tokens = Math.min(limit.burst, tokens + ((now - refilledAt) * limit.ratePerSecond) / 1000);
    refilledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void): void => {
    const ms = Math.max(0, sample());
    if (ms < 0.5) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const server = http.createServer((req, res) => {
    counts.requests++;
    // The throttle and the signature are checked before the body is read, as a front door does.
    const signature = sigv4Problem(req.headers, options.region);
    const admitted = admit();
    const url = req.url ?? '';
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      later(() => {
        if (signature !== null) {
          counts.badSignature++;
          answer(res, 403, signature.type, signature.message);
          return;
        }
        if (!admitted) {
          counts.throttled++;
          answer(res, 429, 'LimitExceededException', 'Rate exceeded');
          return;
        }
        if (req.method !== 'POST' || !url.startsWith(prefix)) {
          counts.notFound++;
          answer(res, 404, 'NotFoundException', 'Not Found');
          return;
        }
        if (size > MAX_POST_BYTES) {
          counts.tooLarge++;
          answer(res, 413, 'PayloadTooLargeException', 'Message too long');
          return;
        }
        const id = decodeURIComponent(url.slice(prefix.length));
        if (!held.has(id)) {
          counts.gone++;
          answer(res, 410, 'GoneException', null);
          return;
        }
        counts.delivered++;
        posts.set(id, (posts.get(id) ?? 0) + 1);
        times.push(wallNow());
        answer(res, 200, null, null);
      });
    });
  });
  // A sender keeps its sockets between fan-outs, as API Gateway lets it; Node wants the headers
  // timeout above the keep-alive one.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    endpoint: `http://${host}:${port}${stage === '' ? '' : `/${stage}`}`,
    port,
    addConnections(ids) {
      for (const id of ids) held.add(id);
    },
    removeConnections(ids) {
      for (const id of ids) held.delete(id);
    },
    setLatency(latency) {
      sample = latencySampler(latency, random);
    },
    setRateLimit(next) {
      limit = next;
      tokens = next?.burst ?? 0;
      refilledAt = performance.now();
    },
    deliveries: (id) => posts.get(id) ?? 0,
    deliveryTimes: () => times,
    stats() {
      let twice = 0;
      for (const n of posts.values()) if (n > 1) twice++;
      let never = 0;
      for (const id of held) if (!posts.has(id)) never++;
      return {
        ...counts,
        deliveredTwice: twice,
        neverDelivered: never,
        firstDeliveryAt: times[0] ?? null,
        lastDeliveryAt: times.at(-1) ?? null,
      };
    },
    resetCounts() {
      posts.clear();
      times = [];
      for (const key of Object.keys(counts) as (keyof typeof counts)[]) counts[key] = 0;
      if (limit !== null) {
        tokens = limit.burst;
        refilledAt = performance.now();
      }
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
