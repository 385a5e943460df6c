/**
 * A stand-in for API Gateway's management API (`POST /{stage}/@connections/{id}`) that answers
 * the way AWS does, error codes included: 410 `GoneException`, 429 `LimitExceededException`,
 * 403 `ForbiddenException`. AWS cannot run here, and serverless-offline's own endpoint (which the
 * offline tests use) never throttles and sends its 410 without an error name; this one lets the
 * handler tests cover what only AWS does.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ManagementApi {
  readonly endpoint: string;
  /** Connections that accept posts. Others get 410 GoneException. */
  readonly open: Set<string>;
  /** Frames received, per connection id, in arrival order. */
  readonly received: Map<string, string[]>;
  /** Per connection: how many of its next posts get 429 LimitExceededException. */
  readonly throttle: Map<string, number>;
  /** Ids that get 403 ForbiddenException. */
  readonly forbidden: Set<string>;
  /** Delay before answering each post. */
  delayMs: number;
  /** Most posts in flight at once since the last reset. */
  maxInFlight: number;
  /** Every post's connection id and answer status. */
  readonly log: { readonly id: string; readonly status: number }[];
  reset(): void;
  frames(id: string): unknown[];
  stop(): Promise<void>;
}

function sendError(
  res: http.ServerResponse,
  status: number,
  type: string,
  message: string | null,
): void {
  const body = JSON.stringify({ message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-errortype': type,
    'x-amzn-requestid': '00000000-0000-0000-0000-000000000000',
  });
  res.end(body);
}

export async function startManagementApi(): Promise<ManagementApi> {
  let inFlight = 0;
  const timers = new Set<NodeJS.Timeout>();
  const api: Omit<ManagementApi, 'endpoint' | 'stop'> = {
    open: new Set(),
    received: new Map(),
    throttle: new Map(),
    forbidden: new Set(),
    delayMs: 0,
    maxInFlight: 0,
    log: [],
    reset() {
      api.open.clear();
      api.received.clear();
      api.throttle.clear();
      api.forbidden.clear();
      api.delayMs = 0;
      api.maxInFlight = 0;
      api.log.length = 0;
    },
    frames(id) {
      return (api.received.get(id) ?? []).map((f) => JSON.parse(f) as unknown);
    },
  };

  const server = http.createServer((req, res) => {
    const match = /^\/[^/]+\/@connections\/([^/?]+)$/.exec(req.url ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      inFlight++;
      api.maxInFlight = Math.max(api.maxInFlight, inFlight);
      const timer = setTimeout(() => {
        timers.delete(timer);
        inFlight--;
        if (req.method !== 'POST' || match === null) {
          sendError(res, 404, 'NotFoundException', 'not found');
          return;
        }
        const id = decodeURIComponent(match[1]!);
        let status = 200;
        const throttles = api.throttle.get(id) ?? 0;
        if (api.forbidden.has(id)) {
          status = 403;
          sendError(res, 403, 'ForbiddenException', 'Forbidden');
        } else if (throttles > 0) {
          api.throttle.set(id, throttles - 1);
          status = 429;
          sendError(res, 429, 'LimitExceededException', 'Rate exceeded');
        } else if (!api.open.has(id)) {
          status = 410;
          sendError(res, 410, 'GoneException', null);
        } else {
          const frames = api.received.get(id) ?? [];
          frames.push(Buffer.concat(chunks).toString('utf8'));
          api.received.set(id, frames);
          res.writeHead(200, { 'content-length': 0 });
          res.end();
        }
        api.log.push({ id, status });
      }, api.delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(api, {
    // Like AWS: the stage is the first path segment.
    endpoint: `http://127.0.0.1:${port}/prod`,
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
