/**
 * One log line per HTTP request, written when the response is over, and the count of requests in
 * flight that a graceful stop waits for. Routes add their fields (and, for an edge answer, its
 * level) to the line through `noteOnRequestLine`.
 */
import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { EdgeLogLevel } from '@reactometer/shared';

/** What the routes noted for the request's line; kept in `res.locals`. */
interface RequestNote {
  level?: EdgeLogLevel;
  readonly fields: Record<string, unknown>;
}

function noteOf(res: Response): RequestNote {
  return res.locals.requestNote as RequestNote;
}

/**
 * Adds `fields` to the request's log line and, when given, sets its level (an edge answer says
 * which; otherwise the status decides).
 */
export function noteOnRequestLine(
  res: Response,
  fields: Readonly<Record<string, unknown>>,
  level?: EdgeLogLevel,
): void {
  const note = noteOf(res);
  Object.assign(note.fields, fields);
  if (level !== undefined) note.level = level;
}

export interface RequestLog {
  /** First middleware of the app: counts the request and logs it once the response is over. */
  readonly middleware: RequestHandler;
  /**
   * From now on responses carry `Connection: close`; resolves once no request is in flight, or
   * after `timeoutMs` (shutdown does not wait forever for a slow upload).
   */
  drain(timeoutMs: number): Promise<void>;
}

export function createRequestLog(logger: Logger): RequestLog {
  let draining = false;
  let inFlight = 0;
  let onIdle: (() => void)[] = [];

  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    const note: RequestNote = { fields: {} };
    res.locals.requestNote = note;
    inFlight++;
    // A keep-alive client would otherwise hold its connection open through the shutdown.
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) {
        for (const resolve of onIdle) resolve();
        onIdle = [];
      }
      // The status sent wins over any the route noted; the error object goes last, as pino
      // prints it at length.
      const { err, status: _noted, ...rest } = note.fields;
      const line = {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        // The peer, or what a trusted proxy (TRUST_PROXY) says in X-Forwarded-For.
        clientIp: req.ip,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        ...rest,
        ...(err !== undefined ? { err } : {}),
      };
      if (!res.writableFinished) logger.warn({ ...line, aborted: true }, 'request aborted');
      else logger[note.level ?? (res.statusCode >= 500 ? 'error' : 'info')](line, 'request');
    });
    next();
  };

  return {
    middleware,
    drain: (timeoutMs) => {
      draining = true;
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        onIdle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
