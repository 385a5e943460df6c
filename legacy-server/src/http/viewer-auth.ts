/**
 * Who may read `GET /reactions`: with DASHBOARD_AUTH on, a viewer token as
 * `Authorization: Bearer` (401 otherwise); CORS headers only for ALLOWED_ORIGINS (a foreign page
 * may not read the answer, and its preflight gets none); the preflight itself answered here.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Clock } from '@reactometer/shared';
import {
  authorizeViewer,
  bearerToken,
  corsHeaders,
  type ViewerAccessConfig,
} from '@reactometer/shared/auth';
import { sendError } from './respond.js';
import { noteOnRequestLine } from './request-log.js';

export function viewerAuth(access: ViewerAccessConfig, clock: Clock): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.set(corsHeaders(req.get('origin'), access.allowedOrigins));
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    authorizeViewer(access, {
      token: bearerToken(req.get('authorization')),
      nowMs: clock.now(),
      checkOrigin: false,
    }).then(
      (viewer) => {
        noteOnRequestLine(res, { viewer: viewer.sub });
        next();
      },
      (err: unknown) => sendError(res, err),
    );
  };
}
