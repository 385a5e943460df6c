/**
 * "Sign in with Slack" on the droplet: `GET /auth/slack/login` and `GET /auth/slack/callback`,
 * served only with DASHBOARD_AUTH=slack (404 otherwise). The flow is the core's
 * (`createSlackSignIn`); this file translates Express to it and back.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Clock } from '@reactometer/shared';
import {
  SIGN_IN_PATHS,
  createSlackSignIn,
  type SignInAnswer,
  type SlackSignInConfig,
} from '@reactometer/shared/auth';
import { noteOnRequestLine } from './request-log.js';

/** The methods each path here answers (the fallback's 405 lists them in `Allow`). */
export const SIGN_IN_ROUTES = {
  [SIGN_IN_PATHS.login]: ['GET', 'HEAD'],
  [SIGN_IN_PATHS.callback]: ['GET', 'HEAD'],
} as const;

function queryText(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

function send(res: Response, answer: SignInAnswer): void {
  noteOnRequestLine(res, { outcome: answer.outcome }, answer.status >= 500 ? 'error' : 'info');
  res.set('Cache-Control', 'no-store');
  // The callback's own URL carries the provider's code: keep it out of the next page's Referer.
  res.set('Referrer-Policy', 'no-referrer');
  if ('location' in answer) {
    res.set('Set-Cookie', answer.setCookie).redirect(302, answer.location);
  } else {
    res.status(answer.status).json(answer.body);
  }
}

export function signInRoutes(config: SlackSignInConfig, clock: Clock): Router {
  const flow = createSlackSignIn(config, {
    fetch: (url, init) => fetch(url, init),
    nowMs: () => clock.now(),
  });
  const router = express.Router();
  router.get(SIGN_IN_PATHS.login, async (req, res) => {
    send(res, await flow.start({ return_to: queryText(req, 'return_to') }));
  });
  router.get(SIGN_IN_PATHS.callback, async (req, res) => {
    send(
      res,
      await flow.finish(
        {
          code: queryText(req, 'code'),
          state: queryText(req, 'state'),
          error: queryText(req, 'error'),
        },
        req.get('cookie'),
      ),
    );
  });
  return router;
}
