/**
 * `POST /slack/events` (HTTP API, payload 2.0): verify, validate, append to the inbox queue (SQS
 * FIFO), then answer. Resolves with 200 only once SQS has accepted the event; 503 when it did not
 * (or the backlog is full: `overloaded`), so that Slack retries. The counting function applies it
 * (handlers/counter.ts); a DynamoDB outage never reaches this handler. What to answer and log for each outcome is the core's (`answerSlackRequest`),
 * shared with the droplet.
 */
import type { Context } from 'aws-lambda';
import { answerSlackRequest, slackEventOutcome, type InboxSlackDeps } from '@reactometer/shared';
import { createComposition } from '../composition.js';
import {
  headerLookup,
  json,
  rawBody,
  type HttpEvent,
  type HttpResult,
} from '../edge/http-event.js';
import { METRIC, MetricUnit, type Logger, type Metrics } from '../observability.js';

export interface SlackEventsParts {
  readonly deps: InboxSlackDeps;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type SlackEventsHandler = (event: HttpEvent, context?: Context) => Promise<HttpResult>;

/** The handler over the parts it is given; `handler` is it over the deployment's composition. */
export function createSlackEventsHandler({
  deps,
  logger,
  metrics,
}: SlackEventsParts): SlackEventsHandler {
  return async (event, context) => {
    try {
      const { answer, result } = await answerSlackRequest(
        { rawBody: rawBody(event), header: headerLookup(event.headers) },
        deps,
      );
      // Its own EMF line: the outcome dimension must not apply to the other metrics.
      const outcome = metrics.singleMetric();
      outcome.addDimension('outcome', slackEventOutcome(answer, result));
      outcome.addMetric(METRIC.slackEvents, MetricUnit.Count, 1);
      if (result?.kind === 'reaction' && result.outcome.kind === 'changed') {
        metrics.addMetric(METRIC.countChanges, MetricUnit.Count, 1);
        if (result.outcome.publishError !== undefined)
          metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
      }
      logger[answer.level](answer.message, {
        awsRequestId: context?.awsRequestId,
        ...answer.fields,
      });
      return json(answer.status, answer.body, answer.headers);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

// Module scope: built once per execution environment, reused by warm invocations.
const app = createComposition(process.env);

export const handler = createSlackEventsHandler({
  deps: app.slackDeps(),
  logger: app.logger(),
  metrics: app.metrics(),
});
