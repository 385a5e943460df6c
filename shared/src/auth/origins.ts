/**
 * The origin allow-list (`ALLOWED_ORIGINS`): which browser pages may open a dashboard socket or
 * read `GET /reactions` across origins. A request without `Origin` comes from a non-browser
 * client (k6, a script, a wall display's kiosk tool) and is judged by its token alone.
 */
import { ForbiddenOriginError } from '../errors.js';

/**
 * `scheme://host[:port]` in the form browsers send it (lower case, no default port, no path), or
 * undefined when `text` is not an http(s) origin.
 */
export function normaliseOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    return undefined;
  }
  return url.origin;
}

/**
 * Parses a comma list of origins; throws with the first bad entry. `*` is refused on purpose:
 * a wildcard would let any page read the company's reactions.
 */
export function parseAllowedOrigins(text: string): readonly string[] {
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const origin = normaliseOrigin(entry);
    if (origin === undefined) {
      throw new RangeError(
        `${JSON.stringify(entry)} is not an origin such as https://dash.example.com`,
      );
    }
    if (!out.includes(origin)) out.push(origin);
  }
  return out;
}

/** True when `origin` (as a browser sent it) is on the list. */
export function isAllowedOrigin(origin: string, allowed: readonly string[]): boolean {
  return allowed.includes(normaliseOrigin(origin) ?? '\0');
}

/** Throws `ForbiddenOriginError` for a present `Origin` that is not listed; absent passes. */
export function assertOriginAllowed(origin: string | undefined, allowed: readonly string[]): void {
  if (origin === undefined) return;
  if (!isAllowedOrigin(origin, allowed)) throw new ForbiddenOriginError(origin.slice(0, 200));
}

/**
 * CORS response headers for a cross-origin read of `GET /reactions`: only for a listed origin,
 * never with credentials (the token travels in a header the page sets, not in a cookie).
 */
export function corsHeaders(
  origin: string | undefined,
  allowed: readonly string[],
): Readonly<Record<string, string>> {
  if (origin === undefined || !isAllowedOrigin(origin, allowed)) return {};
  return {
    'access-control-allow-origin': normaliseOrigin(origin)!,
    'access-control-allow-methods': 'GET, HEAD, OPTIONS',
    'access-control-allow-headers': 'authorization',
    'access-control-max-age': '600',
    vary: 'Origin',
  };
}
