/**
 * What no route answered: unknown paths (404), known paths with the wrong method (405 with
 * `Allow`), and bodies that could not be read (413 past the size limit, 400 otherwise). Every
 * answer is the contract's JSON error, never Express's HTML page.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import {
  MAX_SLACK_BODY_BYTES,
  PayloadError,
  PayloadTooLargeError,
  ReactometerError,
} from '@reactometer/shared';
import { sendError } from './respond.js';

/** Path -> the methods it answers. */
export type RouteMethods = Readonly<Record<string, readonly string[]>>;

/** Mounted after every route: 404, or 405 for a path that `routes` knows. */
export function unmatchedRoute(routes: RouteMethods): RequestHandler {
  return (req: Request, res: Response) => {
    // hasOwn: the path is the client's; a plain lookup could find a member of Object.prototype.
    const allowed = Object.hasOwn(routes, req.path) ? routes[req.path] : undefined;
    if (allowed !== undefined) {
      res.set('Allow', allowed.join(', '));
      sendError(
        res,
        new ReactometerError(
          'method_not_allowed',
          `${req.method} is not supported on ${req.path}; use ${allowed.join(' or ')}`,
        ),
      );
      return;
    }
    sendError(res, new ReactometerError('not_found', `no route for ${req.method} ${req.path}`));
  };
}

/** Mounted last: errors Express caught, mostly the body parser's. */
export const requestErrors: ErrorRequestHandler = (err: unknown, _req, res, next) => {
  if (res.headersSent) return next(err);
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large')
    return sendError(res, new PayloadTooLargeError(MAX_SLACK_BODY_BYTES));
  // Other body-parser failures (aborted upload, compressed body, bad length) are the client's:
  // the body could not be read, so it could not be checked either.
  if (typeof type === 'string') {
    return sendError(
      res,
      new PayloadError('invalid_json', `request body could not be read (${type})`),
    );
  }
  sendError(res, err);
};
