import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  CLUSTER_SOCKETS_PER_WORKER,
  parseDeployment,
  playsScenario,
  poolFor,
  reportName,
  resolveDeployments,
} from '../src/runner/deployment-choice.js';
import { SCENARIO_NAMES } from '../src/runner/scenarios.js';

describe('compare --deployments / --droplet-processes', () => {
  it('parses droplet, serverless-local and droplet-x<K>, and says what is wrong with anything else', () => {
    expect(parseDeployment('droplet')).toEqual({ kind: 'droplet' });
    expect(parseDeployment('serverless-local')).toEqual({ kind: 'serverless-local' });
    expect(parseDeployment('droplet-x3')).toEqual({ kind: 'droplet-cluster', processes: 3 });
    expect(parseDeployment('droplet-x0')).toMatch(/K must be 1-16/);
    expect(parseDeployment('droplet-x17')).toMatch(/K must be 1-16/);
    expect(parseDeployment('lambda')).toMatch(/'lambda' is not one of droplet, serverless-local/);
  });

  it('starts all three by default, droplet x 3 unless --droplet-processes says otherwise', () => {
    expect(resolveDeployments(undefined, undefined)).toEqual([
      { kind: 'droplet' },
      { kind: 'serverless-local' },
      { kind: 'droplet-cluster', processes: 3 },
    ]);
    expect(resolveDeployments(undefined, 5)[2]).toEqual({ kind: 'droplet-cluster', processes: 5 });
  });

  it('refuses a droplet-x<K> that contradicts --droplet-processes, and drops repeats', () => {
    expect(() => resolveDeployments([{ kind: 'droplet-cluster', processes: 3 }], 4)).toThrow(
      /names droplet-x3 but --droplet-processes is 4/,
    );
    expect(resolveDeployments([{ kind: 'droplet' }, { kind: 'droplet' }], undefined)).toEqual([
      { kind: 'droplet' },
    ]);
  });

  it('plays droplet x K in connection-scaling and fan-out only; the others in every scenario', () => {
    const cluster = { kind: 'droplet-cluster', processes: 3 } as const;
    expect(SCENARIO_NAMES.filter((s) => playsScenario(cluster, s))).toEqual([
      'connection-scaling',
      'fan-out',
    ]);
    for (const s of SCENARIO_NAMES) expect(playsScenario({ kind: 'droplet' }, s)).toBe(true);
  });

  it('names a --clients run after its deployments and sizes, never comparison.md', () => {
    const deployments = [{ kind: 'droplet-cluster', processes: 3 }] as const;
    expect(reportName({ quick: false, clients: [50_000], deployments })).toEqual({
      report: 'comparison-droplet-x3-50000.md',
      resultsDir: 'droplet-x3-50000',
    });
    expect(reportName({ quick: true, clients: undefined, deployments })).toEqual({
      report: 'comparison-quick.md',
      resultsDir: 'quick',
    });
    expect(reportName({ quick: false, clients: undefined, deployments }).resultsDir).toBeNull();
  });
});

describe('client pools', () => {
  it('keeps every droplet x K worker under 20,000 sockets and in 127.0.0.100-254 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 342_000 }), (largest) => {
        const p = poolFor({ kind: 'droplet-cluster', processes: 3 }, largest);
        const workers = p.maxWorkers ?? 0;
        expect((p.perWorker ?? 0) * workers).toBeGreaterThanOrEqual(largest);
        expect(p.perWorker).toBeLessThan(20_000);
        const perWorkerAddresses = Math.ceil((p.perWorker ?? 0) / (p.perAddress ?? 1));
        expect(p.firstAddress + workers * perWorkerAddresses - 1).toBeLessThanOrEqual(254);
        // Its range starts above the droplet's and the serverless pool's (6 workers x 2 addresses).
        expect(p.firstAddress).toBeGreaterThan(40 + 6 * 2 - 1);
      }),
    );
  });

  it('holds 50,000 dashboards in 6 workers of 9,000, and refuses sizes beyond the address range', () => {
    expect(poolFor({ kind: 'droplet-cluster', processes: 3 }, 50_000)).toEqual({
      firstAddress: 100,
      perWorker: CLUSTER_SOCKETS_PER_WORKER,
      perAddress: 2_250,
      maxWorkers: 6,
    });
    expect(() => poolFor({ kind: 'droplet-cluster', processes: 3 }, 400_000)).toThrow(
      /more than 127\.0\.0\.100-254 can address/,
    );
  });
});
