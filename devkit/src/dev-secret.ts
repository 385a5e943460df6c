/**
 * The Slack signing secret every local run uses unless SLACK_SIGNING_SECRET is set: the launchers
 * (`npm start`, `npm run legacy`, `npm run serverless`) and the traffic generator. Documented in
 * the README; a fallback for this machine only, never for a deployment. The k6 scripts carry the
 * same literal (they cannot import Node packages); a test holds them equal.
 */
export const DEV_SIGNING_SECRET = 'reactometer-dev-signing-secret';

/** SLACK_SIGNING_SECRET when set (non-blank), else the dev secret; `isDev` says which. */
export function localSigningSecret(env: NodeJS.ProcessEnv = process.env): {
  readonly secret: string;
  readonly isDev: boolean;
} {
  const set = env.SLACK_SIGNING_SECRET?.trim();
  return set ? { secret: set, isDev: false } : { secret: DEV_SIGNING_SECRET, isDev: true };
}

/** What a launcher says when it falls back to the dev secret. */
export function devSecretWarning(): string[] {
  return [
    `WARNING: SLACK_SIGNING_SECRET is not set; using the dev secret "${DEV_SIGNING_SECRET}".`,
    '         Sign test requests with it; never deploy with it.',
  ];
}

/** The secret the test suites sign with (any value other than the dev secret would do). */
export const TEST_SIGNING_SECRET = 'test-signing-secret-0123456789';
