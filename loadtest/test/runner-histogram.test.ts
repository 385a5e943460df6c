import { describe, expect, it } from '@jest/globals';
import {
  createHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeEncoded,
  recordMs,
  trendOf,
} from '@reactometer/devkit';
import { loadScenarios, SCENARIO_NAMES } from '../src/runner/scenarios.js';
import { MetricSet, summarySchema } from '../src/runner/summary.js';
import { assertLocalTarget, isLoopbackHost } from '../src/runner/target.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('HDR histograms across workers', () => {
  it('merging encoded per-worker histograms gives the percentiles of all samples together', () => {
    const all = createHistogram();
    const perWorker = [createHistogram(), createHistogram(), createHistogram()];
    // Three workers with very different latencies: averaging their p99s would be wrong.
    for (let i = 0; i < 3000; i++) {
      const ms = i % 3 === 0 ? 1 + (i % 97) : i % 3 === 1 ? 50 + (i % 13) : 1000 + (i % 501);
      recordMs(all, ms);
      recordMs(perWorker[i % 3]!, ms);
    }
    const merged = mergeEncoded(perWorker.map(encodeHistogram));
    expect(merged.totalCount).toBe(3000);
    const { max: mergedMax, ...mergedRest } = trendOf(merged);
    const { max: allMax, ...allRest } = trendOf(all);
    expect(mergedRest).toEqual(allRest);
    // The decoded max is its bucket's highest equivalent value: equal within 3 significant digits.
    expect(Math.abs(mergedMax - allMax) / allMax).toBeLessThan(0.001);
    expect(trendOf(merged)['p(99)']).toBeGreaterThan(1400);
  });

  it('survives the base64 round trip and keeps sub-millisecond resolution', () => {
    const h = createHistogram();
    recordMs(h, 0.25);
    recordMs(h, 12.345);
    const back = decodeHistogram(encodeHistogram(h));
    expect(back.totalCount).toBe(2);
    expect(trendOf(back).min).toBeCloseTo(0.25, 2);
    expect(trendOf(back).max).toBeCloseTo(12.345, 1);
  });

  it('renders metrics in the k6 summary-export shape', () => {
    const m = new MetricSet();
    const h = createHistogram();
    recordMs(h, 5);
    m.addTrend('delivery_ms', h);
    m.add('deliveries_missed', 0);
    m.gauge('ws_connections_open', 3);
    const metrics = m.toMetrics(2);
    expect(Object.keys(metrics.delivery_ms ?? {}).sort()).toEqual(
      ['avg', 'max', 'med', 'min', 'p(90)', 'p(95)', 'p(99)'].sort(),
    );
    expect(metrics.deliveries_missed).toEqual({ count: 0, rate: 0 });
    expect(metrics.ws_connections_open).toEqual({ value: 3 });
    expect(() => m.add('delivery_ms', 1)).toThrow(/not a counter/);
    expect(summarySchema.shape.metrics.safeParse(metrics).success).toBe(true);
  });
});

describe('scenario loader', () => {
  it('validates scenarios.json and applies the quick overrides', () => {
    const full = loadScenarios({ quick: false });
    const quick = loadScenarios({ quick: true });
    expect(full['connection-scaling'].steps.at(-1)).toBeGreaterThanOrEqual(20_000);
    expect(quick['fan-out'].clients.length).toBeGreaterThan(0);
    expect(Math.max(...quick['fan-out'].clients)).toBeLessThan(
      Math.max(...full['fan-out'].clients),
    );
    // Keys the quick block does not override stay as in the full scenario.
    expect(quick['fan-out'].deliveryTimeoutSeconds).toBe(full['fan-out'].deliveryTimeoutSeconds);
    expect(Object.keys(full).filter((k) => k !== 'targets')).toEqual([...SCENARIO_NAMES]);
  });

  it('rejects a file that does not match, naming the field', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scenarios-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ version: 1, metrics: {}, targets: {}, scenarios: {} }));
    expect(() => loadScenarios({ quick: false, file })).toThrow(/targets|scenarios/);
  });
});

describe('local-only guard', () => {
  it('accepts 127.0.0.0/8 and refuses anything else', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.3.2.1')).toBe(true);
    expect(isLoopbackHost('10.0.0.1')).toBe(false);
    expect(isLoopbackHost('example.com')).toBe(false);
    expect(isLoopbackHost('127.0.0.1.evil.com')).toBe(false);
    expect(() =>
      assertLocalTarget({
        name: 'x',
        httpUrl: 'http://127.0.0.1:1',
        wsUrl: 'wss://abc.execute-api.us-east-1.amazonaws.com/dev',
      }),
    ).toThrow(/not on 127\.0\.0\.0\/8/);
  });
});
