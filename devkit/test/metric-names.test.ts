// One metric catalog for both deployments (`METRICS` in @reactometer/shared): the names the
// Lambda handlers record and the names the droplet exposes must be exactly the catalog's for
// each, so that one dashboard or alert rule reads either deployment.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { METRICS, metricNamesFor, type MetricKey } from '@reactometer/shared';
import { DropletMetrics } from '@reactometer/legacy-server';
import { SERVERLESS_DIR } from '../src/workspaces.js';

/** The catalog names the Lambda handlers record: every `METRIC.<key>` passed to a metrics call. */
function lambdaMetricNames(): string[] {
  const dir = path.join(SERVERLESS_DIR, 'src', 'handlers');
  const keys = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(/addMetric\(\s*METRIC\.(\w+)/g)) keys.add(m[1]!);
  }
  return [...keys]
    .map((key) => {
      const spec = METRICS[key as MetricKey] as { name: string } | undefined;
      if (spec === undefined) throw new Error(`METRIC.${key} is not in the shared catalog`);
      return spec.name;
    })
    .sort();
}

describe('metric names', () => {
  it('the Lambda handlers record exactly the catalog names marked serverless', () => {
    expect(lambdaMetricNames()).toEqual(metricNamesFor('serverless'));
  });

  it('the droplet exposes exactly the catalog names marked droplet', async () => {
    const exposed = (await new DropletMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    expect(exposed.sort()).toEqual(metricNamesFor('droplet'));
  });

  it('every metric both deployments record has the same name on each', () => {
    const both = Object.values(METRICS)
      .filter((m) => m.deployments.length === 2)
      .map((m) => m.name)
      .sort();
    const lambda = new Set(lambdaMetricNames());
    const droplet = new Set(metricNamesFor('droplet'));
    expect(both.filter((n) => !lambda.has(n) || !droplet.has(n))).toEqual([]);
    expect(both).toEqual(
      expect.arrayContaining([
        'ConnectionsOpened',
        'ConnectionsClosed',
        'Connections',
        'MessagesDelivered',
        'GoneConnections',
        'FanOutDuration',
        'CountChanges',
        'PublishFailures',
        'SlackEvents',
      ]),
    );
  });
});
