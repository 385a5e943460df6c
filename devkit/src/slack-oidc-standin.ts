// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- oidc-provider ships no types; the declaration must reach every tsconfig that compiles this file (web/ includes its e2e tests)
/// <reference path="./oidc-provider.d.ts" />
/**
 * A local OpenID Provider STANDING IN FOR slack.com ("Sign in with Slack"), for tests and local
 * runs only: panva's oidc-provider, configured with Slack's issuer layout (issuer without a path,
 * `/openid/connect/authorize`, `/api/openid.connect.token`, `/openid/connect/keys`), PKCE required,
 * `client_secret_post`, and Slack's claims in the id_token (`https://slack.com/team_id`,
 * `https://slack.com/user_id`). Its login page is oidc-provider's development page: type a user
 * id from `users`, any password, then confirm. It is not Slack, and nothing here says how Slack
 * behaves beyond what its documentation states.
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertServersAllowed } from './server-guard.js';

export interface StandInUser {
  /** The Slack user id (`U...`), also the login name on the stand-in's page. */
  readonly id: string;
  /** The Slack workspace (`T...`). */
  readonly teamId: string;
  readonly name: string;
}

export interface SlackOidcStandInOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The deployments' `/auth/slack/callback` URLs. */
  readonly redirectUris: readonly string[];
  readonly users: readonly StandInUser[];
  /** Default 0: a free port on 127.0.0.1. */
  readonly port?: number;
}

export interface SlackOidcStandIn {
  /** SLACK_OIDC_ISSUER for the deployments, e.g. `http://127.0.0.1:41234`. */
  readonly issuer: string;
  stop(): Promise<void>;
}

export const SLACK_LAYOUT = {
  authorization: '/openid/connect/authorize',
  token: '/api/openid.connect.token',
  jwks: '/openid/connect/keys',
  userinfo: '/api/openid.connect.userInfo',
} as const;

export async function startSlackOidcStandIn(
  options: SlackOidcStandInOptions,
): Promise<SlackOidcStandIn> {
  assertServersAllowed('the Slack OpenID Provider stand-in');
  // Loaded here: it warns on import (it prefers Node 22) and only this starter needs it.
  const { default: Provider } = await import('oidc-provider');
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: 'standin-1',
    use: 'sig',
    alg: 'RS256',
  };
  const users = new Map(options.users.map((u) => [u.id, u]));

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: [...options.redirectUris],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [jwk] },
    routes: SLACK_LAYOUT,
    scopes: ['openid', 'profile'],
    claims: {
      openid: ['sub', 'https://slack.com/team_id', 'https://slack.com/user_id'],
      profile: ['name'],
    },
    // Slack puts its claims in the id_token itself; the dashboard reads only the id_token.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    findAccount: (_ctx, id) => {
      const user = users.get(id);
      if (user === undefined) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          name: user.name,
          'https://slack.com/user_id': id,
          'https://slack.com/team_id': user.teamId,
        }),
      };
    },
  });
  // Its dev pages would otherwise print a warning for every request.
  provider.on('server_error', () => undefined);
  server.on('request', provider.callback());

  return {
    issuer,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
