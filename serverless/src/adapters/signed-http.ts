/**
 * POSTs to an AWS API with SigV4 signatures, lean enough for a fan-out's hot path: signed by
 * `aws4` (a well-kept signer on Node's crypto), sent over a keep-alive `undici` pool, each request
 * bounded by a deadline this client enforces itself. The SDK v3 client does not bound
 * PostToConnection reliably (aws/aws-sdk-js-v3#6896, #7632: `requestTimeout` ignored), and its
 * middleware stack costs several times the CPU per call.
 */
import { createHash } from 'node:crypto';
import aws4 from 'aws4';
import type { Dispatcher, Pool as UndiciPool } from 'undici';
// The Pool module alone (undici is pinned): the package's main entry also brings fetch, WebSocket,
// caches and mock agents, about 400 KB more in each fan-out artifact, whose budget is 1 MB
// (package.integration.test.ts).
// @ts-expect-error undici declares types for its main entry only; this module is its Pool class.
import PoolModule from 'undici/lib/dispatcher/pool.js';

const Pool = PoolModule as typeof UndiciPool;

/** An access key, as the SDK's credential providers resolve it. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export type CredentialsProvider = () => Promise<AwsCredentials>;

export interface SignedHttpOptions {
  /** Origin and optional base path, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod`. */
  readonly endpoint: string;
  /** SigV4 service name: `execute-api` (@connections) or `lambda`. */
  readonly service: string;
  readonly region: string;
  readonly credentials: CredentialsProvider;
  /** Sockets kept open (at least the requests in flight, or they queue for one). */
  readonly connections: number;
  /** Longest time to open a socket. */
  readonly connectTimeoutMs?: number;
}

export interface SignedResponse {
  readonly status: number;
  /** `x-amzn-ErrorType` (API Gateway's and Lambda's error name), without any `:detail` suffix. */
  readonly errorType: string | undefined;
  /** `X-Amz-Function-Error` (Lambda: the function threw). */
  readonly functionError: string | undefined;
  /** Only with `readBody`. */
  readonly body: Buffer | null;
}

/** The request did not finish before its deadline; it may or may not have been delivered. */
export class DeadlineExceededError extends Error {
  readonly code = 'deadline_exceeded';

  constructor(what: string, deadlineMs: number) {
    super(`${what} did not finish within ${deadlineMs} ms`);
    this.name = 'DeadlineExceededError';
  }
}

export interface PostOptions {
  /** The request fails with `DeadlineExceededError` if not answered by then. */
  readonly deadlineMs: number;
  /** Collect the response body (Lambda's payload); the fan-out never needs it. */
  readonly readBody?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a sweep passes to `fail` for a request past its deadline. */
const DEADLINE = new Error('deadline');

/**
 * One request in flight: undici's handler and the response it resolves with, in one object (a
 * fan-out makes one per post, so it avoids a closure per callback and a result object).
 */
class PendingPost implements Dispatcher.DispatchHandler, SignedResponse {
  status = 0;
  errorType: string | undefined = undefined;
  functionError: string | undefined = undefined;
  body: Buffer | null = null;
  readonly deadline: number;
  private settled = false;
  private controller: Dispatcher.DispatchController | null = null;
  private readonly chunks: Buffer[] | null;

  constructor(
    private readonly inFlight: Set<PendingPost>,
    private readonly path: string,
    private readonly deadlineMs: number,
    readBody: boolean,
    private readonly resolve: (response: SignedResponse) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.deadline = performance.now() + deadlineMs;
    this.chunks = readBody ? [] : null;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.status = statusCode;
    this.errorType = header(headers['x-amzn-errortype'])?.split(':')[0];
    this.functionError = header(headers['x-amz-function-error']);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks?.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    this.inFlight.delete(this);
    if (this.chunks !== null) this.body = Buffer.concat(this.chunks);
    this.resolve(this);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.inFlight.delete(this);
    if (err === DEADLINE) {
      const late = new DeadlineExceededError(`POST ${this.path}`, this.deadlineMs);
      // Frees the socket of a hung request; a late answer is dropped with it.
      this.controller?.abort(late);
      this.reject(late);
    } else this.reject(err);
  }
}

/**
 * The headers of a SigV4-signed POST (`Authorization`, `X-Amz-Date`, the token, Host and
 * Content-Length signed too). `path` is URI-encoded once, as sent; aws4 encodes it again in the
 * canonical request, as SigV4 requires for every service but S3.
 */
export function signPost(request: {
  readonly host: string;
  readonly path: string;
  readonly service: string;
  readonly region: string;
  readonly body: Buffer;
  /** Hex SHA-256 of `body`, sent as `X-Amz-Content-Sha256` (the fan-out computes it once). */
  readonly bodyHash: string;
  readonly credentials: AwsCredentials;
  readonly headers?: Readonly<Record<string, string>>;
}): Record<string, string> {
  const signed = aws4.sign(
    {
      host: request.host,
      path: request.path,
      method: 'POST',
      service: request.service,
      region: request.region,
      headers: {
        'Content-Type': 'application/json',
        'X-Amz-Content-Sha256': request.bodyHash,
        ...request.headers,
      },
      body: request.body,
    },
    request.credentials,
  );
  return signed.headers as Record<string, string>;
}

const header = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/** How long before expiry a credential is refreshed (Lambda's role credentials rotate). */
const CREDENTIAL_REFRESH_MS = 5 * 60_000;

export class SignedHttpClient {
  private readonly pool: UndiciPool;
  private readonly host: string;
  private readonly basePath: string;
  private readonly service: string;
  private readonly region: string;
  private readonly provider: CredentialsProvider;
  private credentials: AwsCredentials | null = null;
  private refreshing: Promise<AwsCredentials> | null = null;
  private readonly inFlight = new Set<PendingPost>();
  private sweeper: NodeJS.Timeout | null = null;
  /** The payload hash of the last body sent: a fan-out posts the same frame to everyone. */
  private lastBody: Buffer | null = null;
  private lastBodyHash = '';

  constructor(options: SignedHttpOptions) {
    const url = new URL(options.endpoint);
    this.host = url.host;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.service = options.service;
    this.region = options.region;
    this.provider = options.credentials;
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: options.connectTimeoutMs ?? 1_000 },
    });
  }

  /** Resolved credentials (synchronously when held), refreshed before they expire. */
  private credentialsNow(): AwsCredentials | Promise<AwsCredentials> {
    const held = this.credentials;
    const expiresAt = held?.expiration?.getTime();
    if (
      held !== null &&
      (expiresAt === undefined || expiresAt - Date.now() > CREDENTIAL_REFRESH_MS)
    )
      return held;
    this.refreshing ??= this.provider()
      .then((fresh) => (this.credentials = fresh))
      .finally(() => {
        this.refreshing = null;
      });
    // Still valid: refresh behind this request rather than in front of it.
    if (held !== null && expiresAt! > Date.now()) {
      this.refreshing.catch(() => undefined);
      return held;
    }
    return this.refreshing;
  }

  private bodyHash(body: Buffer): string {
    if (body !== this.lastBody) {
      this.lastBody = body;
      this.lastBodyHash = createHash('sha256').update(body).digest('hex');
    }
    return this.lastBodyHash;
  }

  /** Aborts every request past its deadline; one timer for all of them, not one per request. */
  private sweep = (): void => {
    const now = performance.now();
    for (const request of this.inFlight) {
      if (request.deadline <= now) request.fail(DEADLINE);
    }
    if (this.inFlight.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  };

  /**
   * Signs and POSTs `body` to `basePath + path` (`path` already URI-encoded). Resolves with the
   * status whatever it is; rejects on a network error or `DeadlineExceededError`.
   */
  post(path: string, body: Buffer, options: PostOptions): Promise<SignedResponse> {
    const credentials = this.credentialsNow();
    return credentials instanceof Promise
      ? credentials.then((c) => this.send(c, path, body, options))
      : this.send(credentials, path, body, options);
  }

  private send(
    credentials: AwsCredentials,
    path: string,
    body: Buffer,
    options: PostOptions,
  ): Promise<SignedResponse> {
    const fullPath = this.basePath + path;
    const headers = signPost({
      host: this.host,
      path: fullPath,
      service: this.service,
      region: this.region,
      body,
      bodyHash: this.bodyHash(body),
      credentials,
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
    return new Promise<SignedResponse>((resolve, reject) => {
      const request = new PendingPost(
        this.inFlight,
        fullPath,
        options.deadlineMs,
        options.readBody === true,
        resolve,
        reject,
      );
      this.inFlight.add(request);
      if (this.sweeper === null) {
        this.sweeper = setInterval(
          this.sweep,
          Math.max(10, Math.min(100, Math.floor(options.deadlineMs / 4))),
        );
        this.sweeper.unref();
      }
      this.pool.dispatch({ method: 'POST', path: fullPath, headers, body }, request);
    });
  }

  /** Closes the pool's sockets (tests and benchmarks; a Lambda keeps it for the next invocation). */
  async close(): Promise<void> {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    await this.pool.close();
  }
}
