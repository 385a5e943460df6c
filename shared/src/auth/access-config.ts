/**
 * The viewer-access variables, declared once for both deployments: each deployment's
 * `config.ts` spreads `VIEWER_ACCESS_KEYS` into its own table (so its README lists them) and
 * calls `toViewerAccess` on what it read, which also checks the combinations one variable
 * cannot check alone.
 */
import { z } from 'zod';
import { ConfigError, nonEmpty, oneOf, spec, type EnvValues } from '../config/env-schema.js';
import {
  DASHBOARD_AUTH_MODES,
  MAX_TOKEN_TTL_SECONDS,
  MIN_TOKEN_SECRET_LENGTH,
  parseDurationSeconds,
  type DashboardAuthMode,
} from './dashboard-token.js';
import { parseAllowedOrigins } from './origins.js';
import { SLACK_OIDC_ISSUER, type SlackSignInConfig } from './slack-sign-in.js';
import type { ViewerAccessConfig } from './viewer-access.js';

/** The origins the local launchers allow: the dashboard's dev server (`npm start`). */
export const LOCAL_DASHBOARD_ORIGINS = 'http://localhost:5173,http://127.0.0.1:5173';

const origins: z.ZodType<readonly string[], string> = z.string().transform((text, ctx) => {
  try {
    return parseAllowedOrigins(text);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a comma list of origins: ${(err as Error).message}`,
    });
    return z.NEVER;
  }
});

const duration: z.ZodType<number, string> = z.string().transform((text, ctx) => {
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined || seconds < 60 || seconds > MAX_TOKEN_TTL_SECONDS) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration 60s-31d such as 15m, 8h or 7d' });
    return z.NEVER;
  }
  return seconds;
});

const httpsUrl: z.ZodType<string, string> = z
  .string()
  .trim()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http:// or https:// URL');

export const VIEWER_ACCESS_KEYS = {
  DASHBOARD_AUTH: spec<DashboardAuthMode>({
    description:
      'Who may read the dashboard: `off` (anyone who reaches the port), `token` (a viewer token from `npm run token`), `slack` (Sign in with Slack, which issues one).',
    defaultText: 'off',
    schema: oneOf(DASHBOARD_AUTH_MODES, (s) => s.toLowerCase()),
    fallback: () => 'off',
  }),
  DASHBOARD_TOKEN_SECRET: spec<string>({
    description: `Signs and verifies viewer tokens (HS256, at least ${MIN_TOKEN_SECRET_LENGTH} characters); required unless DASHBOARD_AUTH is off.`,
    defaultText: '(none)',
    schema: z
      .string()
      .min(MIN_TOKEN_SECRET_LENGTH, `must be at least ${MIN_TOKEN_SECRET_LENGTH} characters`),
    optional: true,
  }),
  DASHBOARD_TOKEN_TTL: spec<number>({
    description:
      'Lifetime of the viewer token a Slack sign-in issues; the dashboard asks again after it.',
    defaultText: '12h',
    schema: duration,
    fallback: () => 12 * 3600,
  }),
  ALLOWED_ORIGINS: spec<readonly string[]>({
    description:
      'Comma list of dashboard origins (`https://dash.example.com`): a browser from any other origin gets 403 on the WebSocket and no CORS headers; the local launchers allow the dev dashboard.',
    defaultText: '(none: only clients that send no Origin)',
    schema: origins,
    fallback: () => [],
  }),
  SLACK_CLIENT_ID: spec<string>({
    description: "The Slack app's client id; required with DASHBOARD_AUTH=slack.",
    defaultText: '(none)',
    schema: nonEmpty('the Slack client id'),
    optional: true,
  }),
  SLACK_CLIENT_SECRET: spec<string>({
    description: "The Slack app's client secret; required with DASHBOARD_AUTH=slack.",
    defaultText: '(none)',
    schema: nonEmpty('the Slack client secret'),
    optional: true,
  }),
  SLACK_TEAM_ID: spec<string>({
    description:
      'The workspace (`T...`) whose members may sign in; required with DASHBOARD_AUTH=slack.',
    defaultText: '(none)',
    schema: z
      .string()
      .trim()
      .regex(/^[A-Z0-9]{2,32}$/, 'must be a Slack team id such as T0123ABCD'),
    optional: true,
  }),
  SLACK_REDIRECT_URI: spec<string>({
    description:
      "This deployment's `/auth/slack/callback` URL as registered with the Slack app; required with DASHBOARD_AUTH=slack.",
    defaultText: '(none)',
    schema: httpsUrl,
    optional: true,
  }),
  SLACK_OIDC_ISSUER: spec({
    description: "The OpenID Provider's issuer; only a local stand-in for slack.com changes it.",
    defaultText: SLACK_OIDC_ISSUER,
    schema: httpsUrl,
    fallback: () => SLACK_OIDC_ISSUER,
  }),
} as const;

export type ViewerAccessKey = keyof typeof VIEWER_ACCESS_KEYS;
export const VIEWER_ACCESS_KEY_NAMES = Object.keys(VIEWER_ACCESS_KEYS) as ViewerAccessKey[];

export interface ViewerAccessSettings extends ViewerAccessConfig {
  /** Set when `mode` is `slack`. */
  readonly slack: Omit<SlackSignInConfig, 'allowedOrigins'> | undefined;
}

/** The validated settings; throws `ConfigError` naming what a mode is missing. */
export function toViewerAccess(
  v: EnvValues<typeof VIEWER_ACCESS_KEYS, ViewerAccessKey>,
): ViewerAccessSettings {
  const mode = v.DASHBOARD_AUTH!;
  const problems: string[] = [];
  if (mode !== 'off' && v.DASHBOARD_TOKEN_SECRET === undefined) {
    problems.push(`DASHBOARD_TOKEN_SECRET: is required with DASHBOARD_AUTH=${mode}`);
  }
  if (mode === 'slack') {
    for (const key of [
      'SLACK_CLIENT_ID',
      'SLACK_CLIENT_SECRET',
      'SLACK_TEAM_ID',
      'SLACK_REDIRECT_URI',
    ] as const) {
      if (v[key] === undefined) problems.push(`${key}: is required with DASHBOARD_AUTH=slack`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    mode,
    tokenSecret: v.DASHBOARD_TOKEN_SECRET,
    allowedOrigins: v.ALLOWED_ORIGINS!,
    slack:
      mode === 'slack'
        ? {
            issuer: v.SLACK_OIDC_ISSUER!,
            clientId: v.SLACK_CLIENT_ID!,
            clientSecret: v.SLACK_CLIENT_SECRET!,
            teamId: v.SLACK_TEAM_ID!,
            redirectUri: v.SLACK_REDIRECT_URI!,
            tokenSecret: v.DASHBOARD_TOKEN_SECRET!,
            tokenTtlSeconds: v.DASHBOARD_TOKEN_TTL!,
          }
        : undefined,
  };
}
