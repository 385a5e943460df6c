import { GoneConnectionError, ThrottledError, type ConnectionSender } from '@reactometer/shared';
import { SignedHttpClient, type CredentialsProvider } from './signed-http.js';

export interface LeanSenderOptions {
  /** `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`, or serverless-offline's `http://host:port`. */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: CredentialsProvider;
  /** Sockets kept open: at least the posts in flight at once (FANOUT_CONCURRENCY). */
  readonly connections: number;
  /** Longest time one post may take (FANOUT_SEND_TIMEOUT_MS), enforced here. */
  readonly sendTimeoutMs: number;
}

/** A post answered with a status the fan-out cannot act on (403, 413, 5xx...). */
export class PostToConnectionError extends Error {
  readonly code = 'post_failed';
  readonly status: number;

  constructor(status: number, errorType: string | undefined, connectionId: string) {
    super(`PostToConnection ${connectionId} answered ${status} ${errorType ?? ''}`.trim());
    this.name = 'PostToConnectionError';
    this.status = status;
  }
}

/**
 * The core's `ConnectionSender` as a plain signed POST to `@connections/{id}`: what
 * `PostToConnectionCommand` sends, without the SDK's middleware stack, at a fraction of its CPU
 * per post (the bench prints both). Each frame is turned into bytes once, however many
 * connections it goes to. A post past its deadline is failed (not retried: it may have arrived).
 */
export class LeanConnectionSender implements ConnectionSender {
  private readonly http: SignedHttpClient;
  private readonly sendTimeoutMs: number;
  private lastData = '';
  private lastBody = Buffer.alloc(0);

  constructor(options: LeanSenderOptions) {
    this.http = new SignedHttpClient({
      endpoint: options.endpoint,
      service: 'execute-api',
      region: options.region,
      credentials: options.credentials,
      connections: options.connections,
      connectTimeoutMs: Math.min(options.sendTimeoutMs, 1_000),
    });
    this.sendTimeoutMs = options.sendTimeoutMs;
  }

  send(connectionId: string, data: string): Promise<void> {
    if (data !== this.lastData) {
      this.lastData = data;
      this.lastBody = Buffer.from(data, 'utf8');
    }
    // Network errors and DeadlineExceededError propagate: the fan-out counts them as failed.
    return this.http
      .post(`/@connections/${encodeURIComponent(connectionId)}`, this.lastBody, {
        deadlineMs: this.sendTimeoutMs,
      })
      .then(({ status, errorType }) => {
        if (status >= 200 && status < 300) return;
        if (status === 410) throw new GoneConnectionError(connectionId);
        if (status === 429) {
          throw new ThrottledError(`PostToConnection throttled (${errorType ?? '429'})`);
        }
        throw new PostToConnectionError(status, errorType, connectionId);
      });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
