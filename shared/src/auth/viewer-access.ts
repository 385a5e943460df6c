/**
 * The one decision both deployments make about a dashboard viewer: at the WebSocket upgrade
 * (droplet) or `$connect` authorizer (serverless), and on `GET /reactions`.
 */
import { assertOriginAllowed } from './origins.js';
import {
  verifyDashboardToken,
  type DashboardAuthMode,
  type ViewerClaims,
} from './dashboard-token.js';

export interface ViewerAccessConfig {
  readonly mode: DashboardAuthMode;
  /** Required unless `mode` is `off`. */
  readonly tokenSecret: string | undefined;
  readonly allowedOrigins: readonly string[];
}

export interface ViewerRequest {
  /** The `Origin` header; undefined for a non-browser client. */
  readonly origin?: string | undefined;
  /** From the `token` query parameter (WebSocket) or the Bearer header (HTTP). */
  readonly token: string | undefined;
  readonly nowMs: number;
  /** false for `GET /reactions`, whose cross-origin reads CORS decides instead. */
  readonly checkOrigin: boolean;
}

/** Anyone, when access is off. */
export const ANONYMOUS_VIEWER: ViewerClaims = { sub: 'anonymous', exp: Number.MAX_SAFE_INTEGER };

/**
 * The viewer, or a `ForbiddenOriginError` (403) for a listed-out browser origin, checked first,
 * or an `UnauthorizedError` (401) for a missing or bad token when access is not `off`.
 */
export async function authorizeViewer(
  config: ViewerAccessConfig,
  request: ViewerRequest,
): Promise<ViewerClaims> {
  if (request.checkOrigin) assertOriginAllowed(request.origin, config.allowedOrigins);
  if (config.mode === 'off') return ANONYMOUS_VIEWER;
  if (config.tokenSecret === undefined) {
    // config.ts refuses this combination; a hand-built config must not silently let everyone in.
    throw new RangeError('a token secret is required when dashboard access is not off');
  }
  return verifyDashboardToken(request.token, { secret: config.tokenSecret, nowMs: request.nowMs });
}

/**
 * `?token=...` and any other query parameters replaced with `[redacted]`, for log lines: a token
 * in a log is a token anyone with log access can use until it expires.
 */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?[redacted]`;
}
