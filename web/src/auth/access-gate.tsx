/**
 * Shows the dashboard only to a viewer the deployment accepts. It asks `GET /reactions` (with the
 * token, if any): a 401 (no token, expired, refused) or a token past its expiry shows a clear
 * screen asking for a new one, with "Sign in with Slack" where the deployment offers it, instead
 * of a socket that reconnects forever (a browser cannot tell a refused WebSocket from a broken
 * network). With DASHBOARD_AUTH=off the first probe answers 200 and nothing more is asked.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { probeAccess, signInHref, tokenExpiryMs, type AccessProbe } from './viewer-token.js';

/** What the page knows about its viewer; built once in main.tsx. */
export interface ViewerAccess {
  readonly token: string | null;
  /** From a failed Slack sign-in (`#sign_in_error=`). */
  readonly signInError: string | null;
  readonly fetch: Parameters<typeof probeAccess>[2];
  readonly now: () => number;
  /** The page, to come back to after signing in. */
  readonly href: () => string;
  /** Drops the stored token (expired or refused). */
  readonly forget: () => void;
}

/** Re-asked this often while a token is in use: a revoked secret shows up within minutes. */
const RECHECK_MS = 5 * 60_000;

/** By the code in `#sign_in_error=` (the page's URL: looked up with `Object.hasOwn`). */
const SIGN_IN_ERRORS: Readonly<Record<string, string>> = {
  sign_in_refused:
    'Your Slack workspace may not view this dashboard, or the sign-in was cancelled.',
  invalid_sign_in: 'The sign-in could not be completed. Please try again.',
  sign_in_unavailable: 'Slack could not be reached. Please try again in a moment.',
};

type GateState = 'checking' | 'ok' | 'needed' | 'expired';

export interface AccessGateProps {
  readonly access: ViewerAccess;
  /** The HTTP base of the deployment(s) shown. */
  readonly httpUrl: string;
  /** Whether that deployment offers Slack sign-in (config.json `signIn`). */
  readonly slackSignIn: boolean;
  readonly children: ReactNode;
}

export function AccessGate({ access, httpUrl, slackSignIn, children }: AccessGateProps) {
  const [state, setState] = useState<GateState>(
    access.signInError === null ? 'checking' : 'needed',
  );

  useEffect(() => {
    if (access.signInError !== null) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expiry = access.token === null ? null : tokenExpiryMs(access.token);
    const check = async (): Promise<void> => {
      if (expiry !== null && access.now() >= expiry) {
        access.forget();
        setState('expired');
        return;
      }
      const result: AccessProbe = await probeAccess(httpUrl, access.token, access.fetch);
      if (cancelled) return;
      if (result === 'unauthorized') {
        access.forget();
        setState(access.token === null ? 'needed' : 'expired');
        return;
      }
      // Unreachable: the dashboard shows its own reconnecting state; ask again later.
      setState('ok');
      if (access.token === null && result === 'ok') return;
      const untilExpiry = expiry === null ? RECHECK_MS : Math.max(0, expiry - access.now()) + 1000;
      timer = setTimeout(() => void check(), Math.min(RECHECK_MS, untilExpiry));
    };
    void check();
    return () => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [access, httpUrl]);

  if (state === 'ok') return <>{children}</>;
  if (state === 'checking') {
    return (
      <p className="access-checking" role="status">
        Checking access…
      </p>
    );
  }
  const error =
    access.signInError === null
      ? null
      : Object.hasOwn(SIGN_IN_ERRORS, access.signInError)
        ? SIGN_IN_ERRORS[access.signInError]!
        : SIGN_IN_ERRORS.invalid_sign_in!;
  return (
    <section className="access-needed" role="alert" aria-labelledby="access-title">
      <h2 id="access-title">
        {error !== null
          ? 'Sign-in failed'
          : state === 'expired'
            ? 'Your access has expired'
            : 'This dashboard needs access'}
      </h2>
      {error !== null && <p className="access-error">{error}</p>}
      <p>
        {slackSignIn
          ? 'Sign in with your Slack account to see the live counts.'
          : 'Open the link with a viewer token that you were given (ask whoever runs the dashboard for a new one).'}
      </p>
      {slackSignIn && (
        <a className="sign-in-button" href={signInHref(httpUrl, access.href())}>
          Sign in with Slack
        </a>
      )}
    </section>
  );
}
