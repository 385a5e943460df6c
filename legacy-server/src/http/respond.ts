/**
 * Sending the core's answers through Express: the status and body to the client, the level and
 * fields to the request's log line.
 */
import type { Response } from 'express';
import { answerError, type EdgeAnswer } from '@reactometer/shared';
import { noteOnRequestLine } from './request-log.js';

export function sendAnswer(res: Response, answer: EdgeAnswer): void {
  noteOnRequestLine(res, answer.fields, answer.level);
  if (answer.headers !== undefined) res.set(answer.headers);
  res.status(answer.status).json(answer.body);
}

/** The contract's error response for any thrown value (see `answerError`). */
export function sendError(res: Response, err: unknown): void {
  sendAnswer(res, answerError(err));
}
