/** The read side: `GET /reactions` (the leaderboard) and `GET /healthz`. */
import express, { type Request, type Response, type Router } from 'express';
import {
  checkHealth,
  listReactions,
  type InboxStatus,
  type ReactionStore,
} from '@reactometer/shared';
import { sendAnswer, sendError } from './respond.js';

/** The methods each path here answers (the fallback's 405 lists them in `Allow`). */
export const READ_ROUTES = {
  '/reactions': ['GET', 'HEAD'],
  '/healthz': ['GET', 'HEAD'],
} as const;

export interface ReadSources {
  /** Where the leaderboard comes from (the in-memory copy: no database read per request). */
  readonly counts: Pick<ReactionStore, 'listCounts'>;
  /** What `/healthz` pings. */
  readonly store: Pick<ReactionStore, 'ping'>;
  /** How far behind the inbox is, reported by `/healthz`. */
  readonly inbox?: () => InboxStatus;
}

export function readRoutes({ counts, store, inbox }: ReadSources): Router {
  const router = express.Router();

  router.get('/reactions', async (_req: Request, res: Response) => {
    try {
      const reactions = await listReactions(counts);
      res.set('Cache-Control', 'no-store').status(200).json({ reactions });
    } catch (err) {
      sendError(res, err);
    }
  });

  router.get('/healthz', async (_req: Request, res: Response) => {
    const answer = await checkHealth(store, inbox);
    if (answer.status === 200) res.set('Cache-Control', 'no-store');
    sendAnswer(res, answer);
  });

  return router;
}
