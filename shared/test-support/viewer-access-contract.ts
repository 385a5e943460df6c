/**
 * Viewer access (issue 12), as one Jest suite both deployments run against an instance started
 * with `DASHBOARD_AUTH=token`, the given token secret and `ALLOWED_ORIGINS` listing
 * `ALLOWED_TEST_ORIGIN`: the same refusals, with the same statuses and error bodies, on the
 * droplet's upgrade and the serverless `$connect` authorizer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { issueDashboardToken, TOKEN_AUDIENCE, TOKEN_ISSUER } from '../src/auth/index.js';
import { WsTestClient } from './ws-test-client.js';

export const ALLOWED_TEST_ORIGIN = 'http://dashboard.test:5173';
export const FOREIGN_TEST_ORIGIN = 'https://evil.example';

export interface ViewerAccessUnderTest {
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** DASHBOARD_TOKEN_SECRET of the instance. */
  readonly tokenSecret: string;
  /** A token as `npm run token` prints it (the suite also signs its own). */
  readonly cliToken: () => Promise<string>;
  teardown(): Promise<void>;
}

function withToken(wsUrl: string, token: string): string {
  const url = new URL(wsUrl);
  url.searchParams.set('token', token);
  return url.href;
}

export function viewerAccessContract(
  name: string,
  setup: () => Promise<ViewerAccessUnderTest>,
): void {
  describe(`${name}: viewer access (DASHBOARD_AUTH=token)`, () => {
    let target: ViewerAccessUnderTest;
    const clients: WsTestClient[] = [];
    const fresh = (): Promise<string> =>
      issueDashboardToken({
        secret: target.tokenSecret,
        sub: 'contract',
        ttlSeconds: 600,
        nowMs: Date.now(),
      });

    beforeAll(async () => {
      target = await setup();
    }, 180_000);
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    });
    afterAll(async () => {
      await target?.teardown();
    }, 60_000);

    async function upgrade(
      token: string | undefined,
      origin?: string,
    ): Promise<number | WsTestClient> {
      const url = token === undefined ? target.wsUrl : withToken(target.wsUrl, token);
      const result = await WsTestClient.tryConnect(
        url,
        10_000,
        {},
        origin === undefined ? {} : { Origin: origin },
      );
      if (result instanceof WsTestClient) {
        clients.push(result);
        return result;
      }
      return result.status;
    }

    const badTokens: [string, () => Promise<string | undefined>][] = [
      ['no token', async () => undefined],
      [
        'an expired token',
        () =>
          issueDashboardToken({
            secret: target.tokenSecret,
            sub: 'old',
            ttlSeconds: 60,
            nowMs: Date.now() - 3_600_000,
          }),
      ],
      [
        'a token with a wrong signature',
        () =>
          issueDashboardToken({
            secret: 'not-the-secret-of-this-deployment-0123',
            sub: 'x',
            ttlSeconds: 600,
            nowMs: Date.now(),
          }),
      ],
      [
        'a token for another audience',
        () =>
          new SignJWT({})
            .setProtectedHeader({ alg: 'HS256' })
            .setIssuer(TOKEN_ISSUER)
            .setAudience(`${TOKEN_AUDIENCE}-other`)
            .setSubject('x')
            .setIssuedAt()
            .setExpirationTime('10m')
            .sign(new TextEncoder().encode(target.tokenSecret)),
      ],
    ];

    it.each(badTokens)('refuses a WebSocket with %s: 401', async (_what, make) => {
      expect(await upgrade(await make())).toBe(401);
    });

    it.each(badTokens)(
      'refuses GET /reactions with %s: 401 and the contract error body',
      async (_what, make) => {
        const token = await make();
        const res = await fetch(`${target.httpUrl}/reactions`, {
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        });
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({
          error: { code: 'unauthorized', message: expect.any(String) },
        });
      },
    );

    it('serves a fresh token from `npm run token`: the socket connects and answers, GET /reactions 200', async () => {
      const token = await target.cliToken();
      const client = await upgrade(token);
      expect(client).toBeInstanceOf(WsTestClient);
      const snapshot = await (client as WsTestClient).request(
        { action: 'getReactions' },
        'snapshot',
      );
      expect(Array.isArray(snapshot.reactions)).toBe(true);
      const res = await fetch(`${target.httpUrl}/reactions`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ reactions: expect.any(Array) });
    });

    it('refuses a browser from a foreign Origin with 403, even with a valid token', async () => {
      expect(await upgrade(await fresh(), FOREIGN_TEST_ORIGIN)).toBe(403);
      expect(await upgrade(undefined, FOREIGN_TEST_ORIGIN)).toBe(403);
    });

    it('admits a listed Origin with a token, and a client without Origin by its token alone', async () => {
      expect(await upgrade(await fresh(), ALLOWED_TEST_ORIGIN)).toBeInstanceOf(WsTestClient);
      expect(await upgrade(await fresh())).toBeInstanceOf(WsTestClient);
      expect(await upgrade(undefined, ALLOWED_TEST_ORIGIN)).toBe(401);
    });

    it('answers a CORS preflight only for a listed origin, never with credentials', async () => {
      const preflight = (origin: string): Promise<Response> =>
        fetch(`${target.httpUrl}/reactions`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'GET',
            'access-control-request-headers': 'authorization',
          },
        });
      const listed = await preflight(ALLOWED_TEST_ORIGIN);
      expect(listed.headers.get('access-control-allow-origin')).toBe(ALLOWED_TEST_ORIGIN);
      expect(listed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
        'authorization',
      );
      expect(listed.headers.get('access-control-allow-credentials')).toBeNull();
      const foreign = await preflight(FOREIGN_TEST_ORIGIN);
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
      const read = await fetch(`${target.httpUrl}/reactions`, {
        headers: { origin: FOREIGN_TEST_ORIGIN, authorization: `Bearer ${await fresh()}` },
      });
      expect(read.headers.get('access-control-allow-credentials')).toBeNull();
    });
  });
}
