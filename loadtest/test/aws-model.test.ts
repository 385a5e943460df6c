import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  DEFAULT_DESIGN,
  dashboardRequestsPerSecond,
  lambdaCpuFactor,
  largestUnderThrottle,
  modelAws,
} from '../src/model/aws-model.js';
import { AWS_MODEL_PATH, loadAwsModelFile } from '../src/model/aws-model-file.js';
import { modelContext, modelRows } from '../src/model/model-report.js';

const ctx = modelContext();
const raw = JSON.parse(readFileSync(AWS_MODEL_PATH, 'utf8')) as {
  parameters: Record<string, Record<string, unknown>>;
};

describe('loadtest/cost/aws-model.json', () => {
  it('gives every parameter a unit and a source status; sourced ones cite a page and what it says', () => {
    expect(() => loadAwsModelFile()).not.toThrow();
    for (const [name, entry] of Object.entries(raw.parameters)) {
      const status = entry['sourceStatus'];
      expect([name, typeof entry['unit']]).toEqual([name, 'string']);
      if (status === 'official' || status === 'secondary') {
        expect([name, String(entry['source'])]).toEqual([
          name,
          expect.stringMatching(/^https:\/\//),
        ]);
        expect([name, Array.isArray(entry['evidence'])]).toEqual([name, true]);
      } else if (status === 'measured-here') {
        expect([name, String(entry['source'])]).toEqual([
          name,
          expect.stringMatching(/npm run bench/),
        ]);
      } else {
        expect([name, status]).toEqual([name, 'assumption']);
        expect([name, typeof entry['note']]).toEqual([name, 'string']);
      }
    }
  });

  it('marks the PostToConnection round trip as an assumption', () => {
    expect(raw.parameters['postToConnectionRoundTrip']?.['sourceStatus']).toBe('assumption');
  });
});

describe('the AWS model (default quota and design)', () => {
  it('delivers one update to 10,000 dashboards with p99 <= 1.0 s, and to 100,000 with p99 <= 10.5 s', () => {
    const [ten, hundred] = modelRows({ clients: [10_000, 100_000] }, ctx);
    expect(ten!.p99Ms).toBeLessThanOrEqual(1_000);
    expect(hundred!.p99Ms).toBeLessThanOrEqual(10_500);
    // Above the throttle's floor for 100,000: (100,000 - 5,000) / 10,000 s.
    expect(hundred!.finishMs).toBeGreaterThan(9_500);
  });

  it("keeps 10,000 dashboards under the throttle at Slack's event cap (8.3/s), and not without coalescing", () => {
    const on = modelAws({ clients: 10_000, eventsPerSecond: 8.3 }, ctx);
    expect(on.underThrottle).toBe(true);
    expect(on.peakRequestsPerSecond).toBeLessThan(on.throttleRequestsPerSecond);
    const off = modelAws(
      { clients: 10_000, eventsPerSecond: 8.3 },
      { ...ctx, design: { ...DEFAULT_DESIGN, windowMs: 0 } },
    );
    // One update per change per dashboard: 83,000 posts a second.
    expect(off.fanOutRequestsPerSecond).toBeCloseTo(83_000, 0);
    expect(off.underThrottle).toBe(false);
  });

  it('finds the largest N under the throttle by bisection (without coalescing: about 10,000 / 8.3)', () => {
    // Coalescing off keeps the sizes small (the default design's answer, ~131,000, is what
    // `npm run model` and the report print): every change reaches every dashboard.
    const off = { ...ctx, design: { ...DEFAULT_DESIGN, windowMs: 0 } };
    const largest = largestUnderThrottle(8.3, off, { lo: 100, hi: 5_000 });
    expect(largest).not.toBeNull();
    // 8.3 updates + 25.5 / 3600 other requests per dashboard per second, plus Slack's 8.3.
    expect(largest!).toBeGreaterThan(1_150);
    expect(largest!).toBeLessThan(1_210);
    expect(
      modelAws({ clients: largest!, eventsPerSecond: 8.3, trials: 20 }, off).underThrottle,
    ).toBe(true);
    expect(modelAws({ clients: 1_250, eventsPerSecond: 8.3, trials: 20 }, off).underThrottle).toBe(
      false,
    );
  });

  it("scales this machine's CPU per post by Lambda's share of a vCPU (1,769 MB = 1)", () => {
    expect(lambdaCpuFactor(1769, 1769)).toBe(1);
    expect(lambdaCpuFactor(1024, 1769)).toBeCloseTo(1769 / 1024, 9);
    expect(lambdaCpuFactor(3008, 1769)).toBe(1);
  });

  it('counts what dashboards send besides updates: a ping and its pong every 5 minutes, 3 requests per 2-hour session', () => {
    // (12 x 2 + 3 / 2) / 3600
    expect(dashboardRequestsPerSecond(ctx.parameters)).toBeCloseTo(25.5 / 3600, 12);
  });

  it('prints one JSON object per N with the fields the report reads', () => {
    const rows = modelRows({ clients: [1_000], eventsPerSecond: 2 }, ctx);
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]!)).toEqual(
      expect.arrayContaining([
        'clients',
        'p50Ms',
        'p99Ms',
        'finishMs',
        'peakRequestsPerSecond',
        'throttleRequestsPerSecond',
        'monthlyCostUsd',
      ]),
    );
    expect(rows[0]!.monthlyCostUsd).toBeLessThan(rows[0]!.monthlyCostUncoalescedUsd);
  });
});
