/**
 * Viewer tokens, the origin allow-list and the access decision both deployments make
 * (`@reactometer/shared/auth`).
 */
import { describe, expect, it } from '@jest/globals';
import { SignJWT, UnsecuredJWT } from 'jose';
import {
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  authorizeViewer,
  bearerToken,
  corsHeaders,
  issueDashboardToken,
  parseAllowedOrigins,
  parseDurationSeconds,
  redactQuery,
  verifyDashboardToken,
} from '@reactometer/shared/auth';

const SECRET = 'a-test-secret-of-at-least-thirty-two-chars';
const NOW = Date.UTC(2026, 0, 1);
const issue = (over: Partial<Parameters<typeof issueDashboardToken>[0]> = {}): Promise<string> =>
  issueDashboardToken({ secret: SECRET, sub: 'wall', ttlSeconds: 600, nowMs: NOW, ...over });

describe('viewer tokens', () => {
  it('verifies a fresh token and returns its subject and expiry', async () => {
    const claims = await verifyDashboardToken(await issue({ team: 'T1' }), {
      secret: SECRET,
      nowMs: NOW + 1000,
    });
    expect(claims).toEqual({ sub: 'wall', exp: NOW / 1000 + 600, team: 'T1' });
  });

  it.each([
    ['missing', async () => undefined, /required/],
    ['empty', async () => '', /required/],
    ['garbage', async () => 'not.a.jwt', /malformed/],
    ['expired', () => issue({ ttlSeconds: 60, nowMs: NOW - 3_600_000 }), /expired/],
    ['signed with another secret', () => issue({ secret: 'x'.repeat(40) }), /signature/],
    [
      'for another audience',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(TOKEN_ISSUER)
          .setAudience('other')
          .setSubject('x')
          .setIssuedAt(NOW / 1000)
          .setExpirationTime(NOW / 1000 + 60)
          .sign(new TextEncoder().encode(SECRET)),
      /aud/,
    ],
    [
      'unsigned (alg none)',
      async () =>
        new UnsecuredJWT({})
          .setIssuer(TOKEN_ISSUER)
          .setAudience(TOKEN_AUDIENCE)
          .setSubject('x')
          .setIssuedAt(NOW / 1000)
          .setExpirationTime(NOW / 1000 + 60)
          .encode(),
      /malformed/,
    ],
  ])('refuses a %s token with 401 unauthorized', async (_what, make, reason) => {
    const token = await make();
    const err = await verifyDashboardToken(token, { secret: SECRET, nowMs: NOW }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(reason) });
    if (token) expect((err as Error).message).not.toContain(token);
  });

  it('allows 30 s of clock skew, not more', async () => {
    const token = await issue({ ttlSeconds: 60 });
    await expect(
      verifyDashboardToken(token, { secret: SECRET, nowMs: NOW + 89_000 }),
    ).resolves.toBeDefined();
    await expect(
      verifyDashboardToken(token, { secret: SECRET, nowMs: NOW + 91_000 }),
    ).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses short secrets, empty subjects and lifetimes past a month', async () => {
    await expect(issue({ secret: 'short' })).rejects.toThrow(/at least 32/);
    await expect(issue({ sub: ' ' })).rejects.toThrow(/subject/);
    await expect(issue({ ttlSeconds: 40 * 86_400 })).rejects.toThrow(/lifetime/);
  });

  it('reads Bearer headers and durations', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer  x')).toBe('x');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Bearer a, Bearer b')).toBeUndefined();
    expect(parseDurationSeconds('15m')).toBe(900);
    expect(parseDurationSeconds('8h')).toBe(28_800);
    expect(parseDurationSeconds('30d')).toBe(2_592_000);
    expect(parseDurationSeconds('90')).toBe(90);
    expect(parseDurationSeconds('1w')).toBeUndefined();
  });
});

describe('origins', () => {
  it('parses a comma list into browser origins and refuses wildcards and paths', () => {
    expect(parseAllowedOrigins(' http://localhost:5173, HTTPS://Dash.Example.com:443 ,')).toEqual([
      'http://localhost:5173',
      'https://dash.example.com',
    ]);
    expect(() => parseAllowedOrigins('*')).toThrow(/not an origin/);
    expect(() => parseAllowedOrigins('https://a.example/path')).toThrow(/not an origin/);
    expect(() => parseAllowedOrigins('ftp://a.example')).toThrow(/not an origin/);
  });

  it('sends CORS headers only to listed origins, never with credentials', () => {
    const allowed = ['http://localhost:5173'];
    expect(corsHeaders('http://localhost:5173', allowed)).toMatchObject({
      'access-control-allow-origin': 'http://localhost:5173',
      'access-control-allow-headers': 'authorization',
    });
    expect(corsHeaders('http://localhost:5173', allowed)).not.toHaveProperty(
      'access-control-allow-credentials',
    );
    expect(corsHeaders('https://evil.example', allowed)).toEqual({});
    expect(corsHeaders('null', allowed)).toEqual({});
    expect(corsHeaders(undefined, allowed)).toEqual({});
  });
});

describe('authorizeViewer', () => {
  const allowedOrigins = ['http://localhost:5173'];
  const token = { mode: 'token', tokenSecret: SECRET, allowedOrigins } as const;

  it('refuses a foreign Origin with 403 before looking at the token', async () => {
    await expect(
      authorizeViewer(token, {
        origin: 'https://evil.example',
        token: await issue(),
        nowMs: NOW,
        checkOrigin: true,
      }),
    ).rejects.toMatchObject({ code: 'forbidden_origin' });
    await expect(
      authorizeViewer(
        { ...token, mode: 'off' },
        { origin: 'https://evil.example', token: undefined, nowMs: NOW, checkOrigin: true },
      ),
    ).rejects.toMatchObject({ code: 'forbidden_origin' });
  });

  it('judges a request without Origin by its token alone', async () => {
    await expect(
      authorizeViewer(token, { token: await issue(), nowMs: NOW, checkOrigin: true }),
    ).resolves.toMatchObject({ sub: 'wall' });
    await expect(
      authorizeViewer(token, { token: undefined, nowMs: NOW, checkOrigin: true }),
    ).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('lets anyone from an allowed origin in when access is off', async () => {
    await expect(
      authorizeViewer(
        { ...token, mode: 'off' },
        { origin: 'http://localhost:5173', token: undefined, nowMs: NOW, checkOrigin: true },
      ),
    ).resolves.toMatchObject({ sub: 'anonymous' });
  });

  it('redacts query strings for logs', () => {
    expect(redactQuery('/ws?token=abc&x=1')).toBe('/ws?[redacted]');
    expect(redactQuery('/ws')).toBe('/ws');
  });
});
