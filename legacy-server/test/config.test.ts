// The settings issue 10 added to the droplet's configuration: validated with the variable's name,
// defaults as documented.
import { describe, expect, it } from '@jest/globals';
import { configProblems } from '@reactometer/shared/testing';
import { loadConfig } from '../src/config.js';

const base = { SLACK_SIGNING_SECRET: 's' };

describe('droplet configuration: broadcast window, metrics listener, trusted proxy', () => {
  it('defaults: a 1 s coalescing window (as serverless), metrics on 127.0.0.1:9464, no proxy trusted', () => {
    expect(loadConfig(base)).toMatchObject({
      broadcastWindowMs: 1000,
      metricsPort: 9464,
      metricsHost: '127.0.0.1',
      trustProxy: false,
    });
  });

  it('reads each of them', () => {
    expect(
      loadConfig({
        ...base,
        BROADCAST_WINDOW_MS: '250',
        METRICS_PORT: 'off',
        METRICS_HOST: '10.0.0.5',
        TRUST_PROXY: 'loopback',
      }),
    ).toMatchObject({
      broadcastWindowMs: 250,
      metricsPort: null,
      metricsHost: '10.0.0.5',
      trustProxy: 'loopback',
    });
    expect(loadConfig({ ...base, METRICS_PORT: '0', TRUST_PROXY: 'OFF' })).toMatchObject({
      metricsPort: 0,
      trustProxy: false,
    });
    expect(loadConfig({ ...base, TRUST_PROXY: '127.0.0.1, 10.0.0.0/8, ::1' }).trustProxy).toBe(
      '127.0.0.1, 10.0.0.0/8, ::1',
    );
    expect(loadConfig({ ...base, TRUST_PROXY: '1' }).trustProxy).toBe('1');
  });

  it('refuses a TRUST_PROXY entry Express could not compile (it would fail later, at start)', () => {
    for (const bad of ['bad', '10.0.0.0/8/1', 'loopback, fe80::zz', '10.0.0.1/abc']) {
      expect(configProblems(() => loadConfig({ ...base, TRUST_PROXY: bad }))).toHaveLength(1);
    }
  });

  it('names the variable when a value is wrong', () => {
    expect(
      configProblems(() =>
        loadConfig({
          ...base,
          BROADCAST_WINDOW_MS: '-1',
          METRICS_PORT: '70000',
          TRUST_PROXY: 'everyone',
        }),
      ),
    ).toEqual([
      'BROADCAST_WINDOW_MS: must be an integer 0-60000',
      'METRICS_PORT: must be an integer 0-65535 or off',
      expect.stringMatching(/^TRUST_PROXY: must be off, loopback/) as unknown as string,
    ]);
  });
});

describe('droplet configuration: several processes (issue 14)', () => {
  it('defaults: no Redis (one process), no store lock', () => {
    expect(loadConfig(base)).toMatchObject({
      redisUrl: undefined,
      redisKeyPrefix: 'reactometer:',
      storeLock: 'off',
      storeLockLeaseMs: 10_000,
    });
  });

  it('reads REDIS_URL, REDIS_KEY_PREFIX, STORE_LOCK and STORE_LOCK_LEASE_MS', () => {
    expect(
      loadConfig({
        ...base,
        REDIS_URL: 'rediss://user:pw@redis.internal:25061',
        REDIS_KEY_PREFIX: 'prod:',
        STORE_LOCK: 'redis',
        STORE_LOCK_LEASE_MS: '20000',
      }),
    ).toMatchObject({
      redisUrl: 'rediss://user:pw@redis.internal:25061',
      redisKeyPrefix: 'prod:',
      storeLock: 'redis',
      storeLockLeaseMs: 20_000,
    });
  });

  it('names the variable when a value is wrong', () => {
    const problems = configProblems(() =>
      loadConfig({
        ...base,
        REDIS_URL: 'localhost:6379',
        STORE_LOCK: 'mutex',
        STORE_LOCK_LEASE_MS: '5',
      }),
    );
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'REDIS_URL',
      'STORE_LOCK',
      'STORE_LOCK_LEASE_MS',
    ]);
  });

  it('refuses STORE_LOCK=redis without REDIS_URL, naming STORE_LOCK', () => {
    expect(configProblems(() => loadConfig({ ...base, STORE_LOCK: 'redis' }))).toEqual([
      'STORE_LOCK: redis needs REDIS_URL (the Redis that holds the leases)',
    ]);
  });
});
