/**
 * The scheduled safety net: recomputes every count from the stored reaction states, reports
 * drift and repairs it (see the core's `reconcile`). Safe while events flow; an emoji that
 * changed during the run is skipped and settled by the next run.
 */
import type { Context } from 'aws-lambda';
import { reconcile, systemClock, type ReconcileReport } from '@reactometer/shared';
import { createComposition } from '../composition.js';
import { METRIC, MetricUnit, errorText } from '../observability.js';

const app = createComposition(process.env);
const store = app.store();
const { pendingLeaseMs } = app.storeConfig();
const logger = app.logger();
const metrics = app.metrics();

/** `{ "repair": false }` in the invocation input only reports. */
export async function handler(
  event?: { readonly repair?: unknown } | null,
  context?: Context,
): Promise<ReconcileReport> {
  const repair = event?.repair !== false;
  try {
    const report = await reconcile(store, { clock: systemClock, pendingLeaseMs, repair });
    metrics.addMetric(METRIC.countDrift, MetricUnit.Count, report.drift.length);
    const line = {
      awsRequestId: context?.awsRequestId,
      repair,
      ...report,
      drift: report.drift.slice(0, 50),
    };
    if (report.drift.length > 0) logger.warn('reconcile found drift', line);
    else logger.info('reconcile', line);
    return report;
  } catch (err) {
    logger.error('reconcile failed', {
      awsRequestId: context?.awsRequestId,
      error: errorText(err),
      cause: err,
    });
    throw err;
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
