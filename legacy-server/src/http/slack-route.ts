/**
 * `POST /slack/events`: the raw body in, the core's answer out. What to answer and log for each
 * outcome is the core's (`answerSlackRequest`), shared with the Lambda edge.
 */
import express, { type Request, type Response, type Router } from 'express';
import {
  MAX_SLACK_BODY_BYTES,
  answerSlackRequest,
  slackEventOutcome,
  type InboxSlackDeps,
  type SlackDeps,
} from '@reactometer/shared';
import type { DropletMetrics } from '../metrics.js';
import { sendAnswer } from './respond.js';

/** The methods each path here answers (the fallback's 405 lists them in `Allow`). */
export const SLACK_ROUTES = { '/slack/events': ['POST'] } as const;

export function slackRoute(deps: SlackDeps | InboxSlackDeps, metrics?: DropletMetrics): Router {
  const router = express.Router();
  router.post(
    '/slack/events',
    // Raw bytes, whatever the content type: the signature is over the body exactly as sent.
    // inflate: false, so the bytes verified are the bytes on the wire (Slack never compresses).
    express.raw({ type: () => true, limit: MAX_SLACK_BODY_BYTES, inflate: false }),
    async (req: Request, res: Response) => {
      const rawBody: Uint8Array = Buffer.isBuffer(req.body) ? req.body : new Uint8Array(0);
      const { answer, result } = await answerSlackRequest(
        { rawBody, header: (name) => req.get(name) },
        deps,
      );
      metrics?.slackEvent(
        slackEventOutcome(answer, result),
        answer.fields.publishError !== undefined,
      );
      sendAnswer(res, answer);
    },
  );
  return router;
}
