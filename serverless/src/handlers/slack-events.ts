/**
 * `POST /slack/events` (HTTP API, payload 2.0): verify, store, publish to SNS, then answer.
 * Resolves with 200 only once the change is durable; 503 when DynamoDB is unavailable, so that
 * Slack retries.
 */
import type { Context } from 'aws-lambda';
import { handleSlackRequest } from '@reactometer/shared';
import { createComposition } from '../composition.js';
import {
  errorResult,
  headerLookup,
  json,
  rawBody,
  type HttpEvent,
  type HttpResult,
} from '../edge/http-event.js';
import { METRIC, MetricUnit, errorText } from '../observability.js';

// Module scope: built once per execution environment, reused by warm invocations.
const app = createComposition(process.env);
const deps = app.slackDeps();
const logger = app.logger();
const metrics = app.metrics();

/** The event id of a body that failed before parsing finished, for the log line only. */
function peekEventId(body: Uint8Array): string | undefined {
  try {
    const id = (JSON.parse(Buffer.from(body).toString('utf8')) as { event_id?: unknown }).event_id;
    return typeof id === 'string' ? id.slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}

export async function handler(event: HttpEvent, context?: Context): Promise<HttpResult> {
  const header = headerLookup(event.headers);
  const body = rawBody(event);
  const fields: Record<string, unknown> = {
    awsRequestId: context?.awsRequestId,
    bytes: body.byteLength,
    // Slack's retry headers say why an earlier delivery failed; they explain duplicate work.
    slackRetryNum: header('x-slack-retry-num'),
    slackRetryReason: header('x-slack-retry-reason'),
  };
  try {
    const result = await handleSlackRequest({ rawBody: body, header }, deps);
    if (result.kind === 'challenge') {
      logger.info('slack event', { ...fields, outcome: 'url_verification' });
      return json(200, { challenge: result.challenge });
    }
    if (result.kind === 'ignored') {
      logger.info('slack event', {
        ...fields,
        eventId: result.eventId,
        outcome: `ignored:${result.eventType}`,
      });
      return json(200, { ok: true });
    }
    const { outcome } = result;
    if (outcome.kind === 'changed') {
      metrics.addMetric(METRIC.countChanges, MetricUnit.Count, 1);
      if (outcome.publishError !== undefined)
        metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
      const line = {
        ...fields,
        eventId: result.eventId,
        outcome: 'changed',
        emoji: outcome.count.emoji,
        count: outcome.count.count,
        version: outcome.count.version,
        ...(outcome.publishError === undefined
          ? {}
          : { publishError: errorText(outcome.publishError) }),
        ...(outcome.settleError === undefined
          ? {}
          : { settleError: errorText(outcome.settleError) }),
      };
      // Stored but not pushed: dashboards catch up on the next change or snapshot.
      if (outcome.publishError !== undefined || outcome.settleError !== undefined)
        logger.warn('slack event', line);
      else logger.info('slack event', line);
    } else {
      logger.info('slack event', {
        ...fields,
        eventId: result.eventId,
        outcome: `unchanged:${outcome.reason}`,
      });
    }
    return json(200, { ok: true });
  } catch (err) {
    const response = errorResult(err);
    const line = {
      ...fields,
      eventId: peekEventId(body),
      status: response.statusCode,
      error: errorText(err),
    };
    if ((response.statusCode ?? 500) >= 500)
      logger.error('slack event failed', { ...line, cause: err });
    else logger.info('slack event rejected', line);
    return response;
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
