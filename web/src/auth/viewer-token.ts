/**
 * The dashboard's viewer token (DASHBOARD_AUTH=token or slack): it arrives in the URL fragment
 * (`#token=...`, from `npm run token` or the Slack sign-in's redirect), which no server sees and
 * no request logs; the page moves it to sessionStorage at once and removes it from the address
 * bar and history. It travels in the WebSocket URL's `token` parameter (browsers cannot set
 * headers on a WebSocket) and as `Authorization: Bearer` on GET requests.
 */
export const TOKEN_STORAGE_KEY = 'reactometer.viewerToken';

export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface FragmentResult {
  /** The address without the token (or sign-in error), when it had one. */
  readonly cleanedUrl: string | null;
  /** `sign_in_error=CODE` from a failed Slack sign-in. */
  readonly signInError: string | null;
}

/** Takes `#token=` (into `storage`) and `#sign_in_error=` out of `href`. */
export function takeFromFragment(href: string, storage: TokenStorage | null): FragmentResult {
  const url = new URL(href);
  const params = new URLSearchParams(url.hash.replace(/^#/, ''));
  const token = params.get('token');
  const signInError = params.get('sign_in_error');
  if (token === null && signInError === null) return { cleanedUrl: null, signInError: null };
  if (token !== null && token !== '') storage?.setItem(TOKEN_STORAGE_KEY, token);
  url.hash = '';
  return { cleanedUrl: url.href.replace(/#$/, ''), signInError };
}

export function storedToken(storage: TokenStorage | null): string | null {
  try {
    return storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

export function forgetToken(storage: TokenStorage | null): void {
  try {
    storage?.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    // Storage disabled: nothing was kept either.
  }
}

/** The token's expiry (ms), read without verifying (the server verifies); null if unreadable. */
export function tokenExpiryMs(token: string): number | null {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as {
      exp?: unknown;
    };
    return typeof json.exp === 'number' ? json.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** `wsUrl` with `?token=` added (or replaced). */
export function withTokenParam(wsUrl: string, token: string | null): string {
  if (token === null) return wsUrl;
  const url = new URL(wsUrl);
  url.searchParams.set('token', token);
  return url.href;
}

/** Where "Sign in with Slack" goes: the deployment's login route, back to this page after. */
export function signInHref(httpUrl: string, returnTo: string): string {
  const url = new URL('auth/slack/login', httpUrl.endsWith('/') ? httpUrl : `${httpUrl}/`);
  const back = new URL(returnTo);
  back.hash = '';
  url.searchParams.set('return_to', back.href);
  return url.href;
}

export type AccessProbe = 'ok' | 'unauthorized' | 'unreachable';

/** `GET /reactions` with the token: 401 means the viewer needs a (new) token. */
export async function probeAccess(
  httpUrl: string,
  token: string | null,
  fetchFn: (
    url: string,
    init: { headers: Record<string, string>; cache: RequestCache },
  ) => Promise<{ status: number }>,
): Promise<AccessProbe> {
  try {
    const res = await fetchFn(
      new URL('reactions', httpUrl.endsWith('/') ? httpUrl : `${httpUrl}/`).href,
      {
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
        cache: 'no-store',
      },
    );
    if (res.status === 401) return 'unauthorized';
    return res.status < 500 ? 'ok' : 'unreachable';
  } catch {
    return 'unreachable';
  }
}
