import { SignedHttpClient, type CredentialsProvider } from './signed-http.js';

export interface LambdaInvokerOptions {
  readonly region: string;
  /** serverless-offline's Lambda port locally; unset: `https://lambda.{region}.amazonaws.com`. */
  readonly endpoint?: string | undefined;
  readonly credentials: CredentialsProvider;
  /** Invocations in flight at once (a sharded fan-out's workers). */
  readonly connections: number;
}

/** The function could not be invoked, or threw. */
export class LambdaInvokeError extends Error {
  readonly code = 'lambda_invoke_failed';

  constructor(message: string) {
    super(message);
    this.name = 'LambdaInvokeError';
  }
}

/**
 * Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`) on the same lean signed
 * client as the fan-out's posts: the fan-out already carries it, so invoking its workers adds no
 * SDK client to the bundle. serverless-offline answers the same API on its Lambda port.
 */
export class LambdaInvoker {
  private readonly http: SignedHttpClient;

  constructor(options: LambdaInvokerOptions) {
    this.http = new SignedHttpClient({
      endpoint: options.endpoint ?? `https://lambda.${options.region}.amazonaws.com`,
      service: 'lambda',
      region: options.region,
      credentials: options.credentials,
      connections: options.connections,
    });
  }

  private path(functionName: string): string {
    return `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
  }

  /** Runs the function and resolves with what it returned (RequestResponse). */
  async invoke(functionName: string, payload: unknown, deadlineMs: number): Promise<unknown> {
    const res = await this.http.post(
      this.path(functionName),
      Buffer.from(JSON.stringify(payload), 'utf8'),
      { deadlineMs, readBody: true, headers: { 'X-Amz-Invocation-Type': 'RequestResponse' } },
    );
    const text = res.body?.toString('utf8') ?? '';
    if (res.status !== 200 || res.functionError !== undefined || res.errorType !== undefined) {
      throw new LambdaInvokeError(
        `invoke ${functionName}: ${res.status} ${res.functionError ?? res.errorType ?? ''} ${text.slice(0, 300)}`.trim(),
      );
    }
    return text === '' ? null : (JSON.parse(text) as unknown);
  }

  /** Queues an invocation and returns at once (Event). */
  async invokeAsync(functionName: string, payload: unknown, deadlineMs: number): Promise<void> {
    const res = await this.http.post(
      this.path(functionName),
      Buffer.from(JSON.stringify(payload), 'utf8'),
      { deadlineMs, readBody: true, headers: { 'X-Amz-Invocation-Type': 'Event' } },
    );
    if (res.status !== 202) {
      throw new LambdaInvokeError(
        `async invoke ${functionName}: ${res.status} ${res.errorType ?? ''} ${res.body?.toString('utf8').slice(0, 300) ?? ''}`.trim(),
      );
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
