import { describe, expect, it } from '@jest/globals';
import {
  percentile,
  simulateFanOut,
  type FanOutSimulationInput,
} from '../src/measure/fan-out-simulation.js';

const base: FanOutSimulationInput = {
  connections: 10_000,
  workers: 1,
  concurrency: 64,
  limits: null,
  postRoundTrip: { kind: 'fixed', ms: 20 },
  cpuPerPostMs: 0,
  cpus: 'per-worker',
  pageSize: 250,
  pageRoundTrip: { kind: 'fixed', ms: 0 },
};

describe('simulateFanOut', () => {
  it('is bound by the round trip and the concurrency: 10,000 posts, 64 at a time, 20 ms each', () => {
    const sim = simulateFanOut(base);
    expect(sim.deliveries).toHaveLength(10_000);
    // ceil(10,000 / 64) = 157 rounds of 20 ms
    expect(sim.finishMs).toBeCloseTo(157 * 20, 6);
  });

  it('is bound by the token bucket: the burst at once, then the rate', () => {
    const sim = simulateFanOut({
      ...base,
      concurrency: 1000,
      limits: { ratePerSecond: 1000, burst: 500 },
    });
    // (10,000 - 500) / 1,000 per second, plus the last round trip
    expect(sim.finishMs).toBeCloseTo(9_500 + 20, 0);
  });

  it('is bound by the CPU, shared by every worker when the workers share one', () => {
    const cpuBound = {
      ...base,
      postRoundTrip: { kind: 'fixed', ms: 0 } as const,
      cpuPerPostMs: 0.1,
    };
    expect(simulateFanOut({ ...cpuBound, workers: 4, cpus: 1 }).finishMs).toBeCloseTo(1_000, 0);
    // Each worker its own CPU (Lambda): four times as fast.
    expect(simulateFanOut({ ...cpuBound, workers: 4, cpus: 'per-worker' }).finishMs).toBeCloseTo(
      250,
      0,
    );
  });

  it('gives every connection to exactly one worker, and starts late workers late', () => {
    const sim = simulateFanOut({
      ...base,
      connections: 1_001,
      workers: 3,
      workerStartMs: (w) => w * 100,
    });
    const perWorker = [0, 0, 0];
    for (const w of sim.workerOf) perWorker[w]!++;
    expect(perWorker).toEqual([334, 334, 333]);
    expect(sim.workerFinishMs[2]! - sim.workerFinishMs[0]!).toBeCloseTo(200, 6);
  });

  it('waits for Scan pages it has not read yet, one page ahead', () => {
    const slowPages = simulateFanOut({
      ...base,
      connections: 1_000,
      pageRoundTrip: { kind: 'fixed', ms: 500 },
    });
    // Four pages of 250, each requested when the previous one starts being sent: 4 x 500 ms,
    // the sends of each page (4 rounds of 20 ms) hidden under the next page's read.
    expect(slowPages.finishMs).toBeGreaterThanOrEqual(2_000);
    expect(slowPages.finishMs).toBeLessThan(2_000 + 4 * 20 + 1);
    expect(percentile(slowPages.deliveries, 0)).toBeGreaterThanOrEqual(500);
  });
});
