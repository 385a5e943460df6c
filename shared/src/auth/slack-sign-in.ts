/**
 * "Sign in with Slack" (Slack's OpenID Connect) as a relying party: the authorization code flow
 * with PKCE (S256), `state` and `nonce`, the `id_token` verified against the provider's JWKS,
 * and the `https://slack.com/team_id` claim required to equal the configured workspace. A
 * successful sign-in ends with a viewer token for the dashboard (`dashboard-token.ts`).
 *
 * Both deployments serve the same two routes with this code; they only translate HTTP. The
 * provider is reached through the `fetch` they pass in (the core does no I/O of its own), and it
 * is found by OpenID discovery from its issuer, so a local stand-in for slack.com with the same
 * layout replaces it by one setting.
 */
import {
  SignJWT,
  base64url,
  createLocalJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';
import { ReactometerError, type ErrorCode } from '../errors.js';
import { toHttpError, type ErrorBody } from '../contract/http-errors.js';
import { issueDashboardToken } from './dashboard-token.js';
import { normaliseOrigin } from './origins.js';

/** Slack's issuer; its discovery document names the endpoints. */
export const SLACK_OIDC_ISSUER = 'https://slack.com';
/** The claim that names the user's workspace in Slack's id_token. */
export const SLACK_TEAM_CLAIM = 'https://slack.com/team_id';
export const SLACK_USER_CLAIM = 'https://slack.com/user_id';

/** The routes each deployment serves. */
export const SIGN_IN_PATHS = {
  login: '/auth/slack/login',
  callback: '/auth/slack/callback',
} as const;

/** Carries state, nonce and the PKCE verifier from the login route to the callback. */
export const SIGN_IN_COOKIE = 'reactometer_sign_in';
const SIGN_IN_AUDIENCE = 'reactometer-sign-in';
/** Time a person has at the provider's consent screen. */
const SIGN_IN_WINDOW_SECONDS = 600;
/** Discovery and keys are re-read after this, so that a key rotation is picked up. */
const PROVIDER_CACHE_MS = 3_600_000;

export interface SlackSignInConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The only workspace whose members may sign in. */
  readonly teamId: string;
  /** This deployment's callback URL, as registered with the Slack app. */
  readonly redirectUri: string;
  /** Signs the sign-in cookie and the viewer token. */
  readonly tokenSecret: string;
  readonly tokenTtlSeconds: number;
  /** Where the dashboard may be sent back to (ALLOWED_ORIGINS). */
  readonly allowedOrigins: readonly string[];
}

/** The part of `fetch` the flow uses; both deployments pass the global one. */
export type FetchLike = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string },
) => Promise<{ readonly status: number; json(): Promise<unknown> }>;

export interface SlackSignInDeps {
  readonly fetch: FetchLike;
  readonly nowMs: () => number;
}

/** What a route answers: a redirect, or the contract's error body. */
export type SignInAnswer =
  | {
      readonly status: 302;
      readonly location: string;
      readonly setCookie: string;
      /** For the log line: how it ended. */
      readonly outcome: string;
    }
  | { readonly status: number; readonly body: ErrorBody; readonly outcome: string };

interface ProviderMetadata {
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
}

class SignInError extends ReactometerError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

function randomToken(bytes = 32): string {
  return base64url.encode(globalThis.crypto.getRandomValues(new Uint8Array(bytes)));
}

async function s256(verifier: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(verifier),
  );
  return base64url.encode(new Uint8Array(digest));
}

function stringField(json: unknown, name: string): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const value = (json as Record<string, unknown>)[name];
  return Object.hasOwn(json, name) && typeof value === 'string' ? value : undefined;
}

/** The value of cookie `name` in a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface SlackSignIn {
  /** `GET /auth/slack/login?return_to=URL`: sends the browser to the provider. */
  start(query: { readonly return_to?: string | undefined }): Promise<SignInAnswer>;
  /** `GET /auth/slack/callback?code&state`: back from the provider, on to the dashboard. */
  finish(
    query: {
      readonly code?: string | undefined;
      readonly state?: string | undefined;
      readonly error?: string | undefined;
    },
    cookieHeader: string | undefined,
  ): Promise<SignInAnswer>;
}

export function createSlackSignIn(config: SlackSignInConfig, deps: SlackSignInDeps): SlackSignIn {
  const key = new TextEncoder().encode(config.tokenSecret);
  const issuer = config.issuer.replace(/\/+$/, '');
  const secure = config.redirectUri.startsWith('https:');
  const cookiePath = SIGN_IN_PATHS.login.slice(0, SIGN_IN_PATHS.login.lastIndexOf('/'));
  let metadata: { value: ProviderMetadata; at: number } | undefined;
  let keys: { value: ReturnType<typeof createLocalJWKSet>; at: number } | undefined;

  async function getJson(
    url: string,
    init?: Parameters<FetchLike>[1],
  ): Promise<{ status: number; json: unknown }> {
    try {
      const response = await deps.fetch(url, init);
      return { status: response.status, json: await response.json().catch(() => undefined) };
    } catch (err) {
      throw new SignInError('sign_in_unavailable', `the sign-in provider did not answer`, {
        cause: err,
      });
    }
  }

  async function provider(): Promise<ProviderMetadata> {
    if (metadata !== undefined && deps.nowMs() - metadata.at < PROVIDER_CACHE_MS)
      return metadata.value;
    const { status, json } = await getJson(`${issuer}/.well-known/openid-configuration`);
    const value = {
      authorization_endpoint: stringField(json, 'authorization_endpoint'),
      token_endpoint: stringField(json, 'token_endpoint'),
      jwks_uri: stringField(json, 'jwks_uri'),
    };
    if (
      status !== 200 ||
      stringField(json, 'issuer') !== issuer ||
      value.authorization_endpoint === undefined ||
      value.token_endpoint === undefined ||
      value.jwks_uri === undefined
    ) {
      throw new SignInError(
        'sign_in_unavailable',
        'the sign-in provider sent no usable discovery document',
      );
    }
    metadata = { value: value as ProviderMetadata, at: deps.nowMs() };
    return metadata.value;
  }

  async function jwks(refresh: boolean): Promise<ReturnType<typeof createLocalJWKSet>> {
    if (!refresh && keys !== undefined && deps.nowMs() - keys.at < PROVIDER_CACHE_MS)
      return keys.value;
    const { status, json } = await getJson((await provider()).jwks_uri);
    if (
      status !== 200 ||
      typeof json !== 'object' ||
      json === null ||
      !Array.isArray((json as JSONWebKeySet).keys)
    ) {
      throw new SignInError('sign_in_unavailable', 'the sign-in provider sent no usable key set');
    }
    keys = { value: createLocalJWKSet(json as JSONWebKeySet), at: deps.nowMs() };
    return keys.value;
  }

  async function verifyIdToken(idToken: string, nonce: string): Promise<JWTPayload> {
    const options = {
      issuer,
      audience: config.clientId,
      algorithms: ['RS256', 'ES256', 'PS256'],
      currentDate: new Date(deps.nowMs()),
      clockTolerance: 30,
      requiredClaims: ['sub', 'exp', 'iat', 'nonce'],
    };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, await jwks(false), options));
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) {
        throw new SignInError('invalid_sign_in', 'the id_token did not verify', { cause: err });
      }
      // A key we have not seen: the provider rotated; read the set once more.
      try {
        ({ payload } = await jwtVerify(idToken, await jwks(true), options));
      } catch (again) {
        throw new SignInError('invalid_sign_in', 'the id_token did not verify', { cause: again });
      }
    }
    if (payload.nonce !== nonce)
      throw new SignInError('invalid_sign_in', 'the id_token nonce does not match');
    return payload;
  }

  /** The dashboard URL to return to: on an allowed origin, without a fragment. */
  function returnTarget(requested: string | undefined): string {
    const fallback = config.allowedOrigins[0];
    const text = requested ?? (fallback === undefined ? undefined : `${fallback}/`);
    let url: URL | undefined;
    try {
      url = text === undefined ? undefined : new URL(text);
    } catch {
      url = undefined;
    }
    const origin = url === undefined ? undefined : normaliseOrigin(url.origin);
    if (url === undefined || origin === undefined || !config.allowedOrigins.includes(origin)) {
      throw new SignInError(
        'invalid_sign_in',
        'return_to: must be a dashboard URL on an allowed origin',
      );
    }
    url.hash = '';
    return url.href;
  }

  function cookie(value: string, maxAge: number): string {
    return [
      `${SIGN_IN_COOKIE}=${value}`,
      `Path=${cookiePath}`,
      `Max-Age=${maxAge}`,
      'HttpOnly',
      'SameSite=Lax',
      ...(secure ? ['Secure'] : []),
    ].join('; ');
  }

  function failure(err: unknown, returnTo: string | undefined): SignInAnswer {
    const { status, body } = toHttpError(err);
    const code = body.error.code;
    if (returnTo === undefined) return { status, body, outcome: `failed:${code}` };
    // Back to the dashboard, which says what happened and offers to try again.
    return {
      status: 302,
      location: `${returnTo}#sign_in_error=${encodeURIComponent(code)}`,
      setCookie: cookie('', 0),
      outcome: `failed:${code}`,
    };
  }

  return {
    async start(query) {
      try {
        const returnTo = returnTarget(query.return_to);
        const { authorization_endpoint: endpoint } = await provider();
        const state = randomToken();
        const nonce = randomToken();
        const verifier = randomToken(48);
        const now = Math.floor(deps.nowMs() / 1000);
        const pending = await new SignJWT({ state, nonce, verifier, returnTo })
          .setProtectedHeader({ alg: 'HS256' })
          .setAudience(SIGN_IN_AUDIENCE)
          .setIssuedAt(now)
          .setExpirationTime(now + SIGN_IN_WINDOW_SECONDS)
          .sign(key);
        const url = new URL(endpoint);
        url.search = new URLSearchParams({
          response_type: 'code',
          scope: 'openid profile',
          client_id: config.clientId,
          redirect_uri: config.redirectUri,
          state,
          nonce,
          code_challenge: await s256(verifier),
          code_challenge_method: 'S256',
          team: config.teamId,
        }).toString();
        return {
          status: 302,
          location: url.href,
          setCookie: cookie(pending, SIGN_IN_WINDOW_SECONDS),
          outcome: 'redirected',
        };
      } catch (err) {
        return failure(err, undefined);
      }
    },

    async finish(query, cookieHeader) {
      let pending: { state: string; nonce: string; verifier: string; returnTo: string };
      try {
        const { payload } = await jwtVerify(cookieValue(cookieHeader, SIGN_IN_COOKIE) ?? '', key, {
          algorithms: ['HS256'],
          audience: SIGN_IN_AUDIENCE,
          currentDate: new Date(deps.nowMs()),
        });
        pending = payload as unknown as typeof pending;
      } catch (err) {
        return failure(
          new SignInError(
            'invalid_sign_in',
            'no sign-in in progress in this browser (start again)',
            { cause: err },
          ),
          undefined,
        );
      }
      try {
        if (query.error !== undefined) {
          throw new SignInError('sign_in_refused', 'the sign-in was cancelled at the provider');
        }
        if (query.state === undefined || query.state !== pending.state) {
          throw new SignInError('invalid_sign_in', "state: does not match this browser's sign-in");
        }
        if (query.code === undefined || query.code === '') {
          throw new SignInError('invalid_sign_in', 'code: is required');
        }
        const { token_endpoint: endpoint } = await provider();
        const { status, json } = await getJson(endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: query.code,
            redirect_uri: config.redirectUri,
            client_id: config.clientId,
            client_secret: config.clientSecret,
            code_verifier: pending.verifier,
          }).toString(),
        });
        const idToken = stringField(json, 'id_token');
        if (status !== 200 || idToken === undefined) {
          throw new SignInError('invalid_sign_in', 'the sign-in provider refused the code');
        }
        const claims = await verifyIdToken(idToken, pending.nonce);
        if (claims[SLACK_TEAM_CLAIM] !== config.teamId) {
          throw new SignInError(
            'sign_in_refused',
            'this Slack workspace may not view the dashboard',
          );
        }
        const user =
          typeof claims[SLACK_USER_CLAIM] === 'string'
            ? (claims[SLACK_USER_CLAIM] as string)
            : claims.sub!;
        const token = await issueDashboardToken({
          secret: config.tokenSecret,
          sub: user,
          team: config.teamId,
          ttlSeconds: config.tokenTtlSeconds,
          nowMs: deps.nowMs(),
        });
        // The fragment never reaches a server log; the dashboard moves it to sessionStorage.
        return {
          status: 302,
          location: `${pending.returnTo}#token=${token}`,
          setCookie: cookie('', 0),
          outcome: 'signed_in',
        };
      } catch (err) {
        return failure(err, pending.returnTo);
      }
    },
  };
}
