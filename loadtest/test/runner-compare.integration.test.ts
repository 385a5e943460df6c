/**
 * End to end: `compare --quick --only fan-out` starts the three local deployments (droplet +
 * FerretDB, serverless offline stack, droplet x 3 behind nginx with Redis), runs, and writes the
 * report, raw JSON and charts (into a temporary folder standing in for docs/). About a minute on
 * 2 cores.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarySchema } from '../src/runner/summary.js';

const LOADTEST = fileURLToPath(new URL('../', import.meta.url));

describe('npm run compare -- --quick --only fan-out', () => {
  it('measures the three deployments and writes the report, the raw summaries and the charts', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'reactometer-compare-'));
    try {
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/compare-cli.ts', '--quick', '--only', 'fan-out', '--out', out],
        { cwd: LOADTEST, encoding: 'utf8', timeout: 170_000 },
      );
      expect({
        status: run.status,
        stderr: run.status === 0 ? '' : run.stderr.slice(-3000),
      }).toEqual({ status: 0, stderr: '' });
      for (const target of ['droplet', 'serverless-local', 'droplet-x3']) {
        const file = path.join(out, 'results', 'quick', `fan-out.${target}.json`);
        const summary = summarySchema.parse(JSON.parse(readFileSync(file, 'utf8')));
        expect(summary.reactometer.target).toBe(target);
        expect(summary.reactometer.steps.length).toBeGreaterThan(0);
        expect(summary.metrics.delivery_ms).toBeDefined();
      }
      for (const chart of ['delivery-latency.svg', 'cpu-per-delivery.svg'])
        expect(readFileSync(path.join(out, 'results', 'quick', chart), 'utf8')).toMatch(/^<svg/);
      expect(existsSync(path.join(out, 'comparison.md'))).toBe(false);
      const report = readFileSync(path.join(out, 'comparison-quick.md'), 'utf8');
      expect(report).toMatch(/local emulation/);
      expect(report).toContain('droplet x 3 (measured)');
      expect(report).toMatch(/delivery p99 at \d+ clients/);
      expect(report).toContain('results/quick/delivery-latency.svg');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
