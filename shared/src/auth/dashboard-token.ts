/**
 * Viewer tokens: the short-lived JWTs a dashboard presents to either deployment (the WebSocket
 * URL's `token` parameter, `Authorization: Bearer` on `GET /reactions`). One implementation of
 * issuing and verifying, so that both deployments accept exactly the same tokens.
 *
 * HS256 with `DASHBOARD_TOKEN_SECRET`: the only parties are the deployment that verifies and the
 * command or sign-in route that issues, and all of them hold the secret. jose is pure
 * computation (WebCrypto), which is why the core may use it.
 */
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { UnauthorizedError } from '../errors.js';

/** `off`: anyone who reaches the port; `token`: a viewer token; `slack`: a token from Slack sign-in. */
export const DASHBOARD_AUTH_MODES = ['off', 'token', 'slack'] as const;
export type DashboardAuthMode = (typeof DASHBOARD_AUTH_MODES)[number];

export const TOKEN_ISSUER = 'reactometer';
export const TOKEN_AUDIENCE = 'reactometer-dashboard';
/** Clocks of the issuer and the verifier may differ this much (Lambda and a laptop do). */
export const TOKEN_CLOCK_TOLERANCE_SECONDS = 30;
/** Longest lifetime a token may be issued with (a wall display is re-issued monthly). */
export const MAX_TOKEN_TTL_SECONDS = 31 * 24 * 3600;
/** Shortest secret accepted: HS256 with fewer than 256 bits is guessable offline. */
export const MIN_TOKEN_SECRET_LENGTH = 32;

export interface ViewerClaims {
  /** Who the token was issued to (a name from `npm run token`, or a Slack user id). */
  readonly sub: string;
  /** The Slack workspace, for tokens from Slack sign-in. */
  readonly team?: string;
  /** Expiry, epoch seconds. */
  readonly exp: number;
}

export interface IssueTokenOptions {
  readonly secret: string;
  readonly sub: string;
  readonly ttlSeconds: number;
  readonly nowMs: number;
  readonly team?: string;
}

function keyOf(secret: string): Uint8Array {
  if (secret.length < MIN_TOKEN_SECRET_LENGTH) {
    throw new RangeError(`the token secret must be at least ${MIN_TOKEN_SECRET_LENGTH} characters`);
  }
  return new TextEncoder().encode(secret);
}

/** Signs a viewer token. */
export async function issueDashboardToken(options: IssueTokenOptions): Promise<string> {
  const { sub, ttlSeconds, nowMs } = options;
  if (sub.trim() === '') throw new RangeError('the token subject must not be empty');
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new RangeError(`the token lifetime must be 1-${MAX_TOKEN_TTL_SECONDS} seconds`);
  }
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT(options.team === undefined ? {} : { team: options.team })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(keyOf(options.secret));
}

export interface VerifyTokenOptions {
  readonly secret: string;
  readonly nowMs: number;
}

/** What went wrong, in words a client may read; never the token itself. */
function reasonOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'the token signature is wrong';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return `the token's ${err.claim} claim is not accepted`;
  }
  return 'the token is malformed';
}

/**
 * The token's claims, or `UnauthorizedError` for a missing, malformed, expired or foreign token.
 * Only HS256 is accepted (no `none`, no algorithm chosen by the token).
 */
export async function verifyDashboardToken(
  token: string | undefined,
  options: VerifyTokenOptions,
): Promise<ViewerClaims> {
  if (token === undefined || token === '') {
    throw new UnauthorizedError('a viewer token is required');
  }
  try {
    const { payload } = await jwtVerify(token, keyOf(options.secret), {
      algorithms: ['HS256'],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      requiredClaims: ['sub', 'exp', 'iat'],
      clockTolerance: TOKEN_CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(options.nowMs),
      maxTokenAge: MAX_TOKEN_TTL_SECONDS + TOKEN_CLOCK_TOLERANCE_SECONDS,
    });
    const team = typeof payload.team === 'string' ? payload.team : undefined;
    return { sub: payload.sub!, exp: payload.exp!, ...(team === undefined ? {} : { team }) };
  } catch (err) {
    throw new UnauthorizedError(reasonOf(err), { cause: err });
  }
}

/** The token of an `Authorization: Bearer ...` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+([^\s,]+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * A duration such as `90s`, `15m`, `8h`, `30d` (or plain seconds) in seconds; undefined when
 * it is not one. Used by `npm run token` and by the deployments' token lifetime setting.
 */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (match === null) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
