import { describe, expect, it } from '@jest/globals';
import { loadLocalStackConfig } from '../src/offline/offline-config.js';
import { configProblems } from '@reactometer/shared/testing';

describe('local stack configuration', () => {
  it('defaults to the documented ports and a persistent dynalite', () => {
    expect(loadLocalStackConfig({}, '/data/dyn')).toEqual({
      host: '127.0.0.1',
      ports: { http: 4000, ws: 4001, sns: 4002, lambda: 4003, dynalite: 4567 },
      dynaliteDataDir: '/data/dyn',
      stage: 'local',
      signingSecret: undefined,
      inProcess: true,
      logLevel: 'INFO',
    });
  });

  it('moves every port by environment and names a bad one', () => {
    const config = loadLocalStackConfig(
      {
        OFFLINE_HTTP_PORT: '5000',
        OFFLINE_WS_PORT: '5001',
        OFFLINE_SNS_PORT: '5002',
        OFFLINE_LAMBDA_PORT: '5003',
        DYNALITE_PORT: '5004',
        DYNALITE_DATA_DIR: 'memory',
        OFFLINE_IN_PROCESS: 'false',
      },
      '/unused',
    );
    expect(config.ports).toEqual({ http: 5000, ws: 5001, sns: 5002, lambda: 5003, dynalite: 5004 });
    expect(config.dynaliteDataDir).toBeUndefined();
    expect(config.inProcess).toBe(false);
    expect(
      configProblems(() =>
        loadLocalStackConfig({ OFFLINE_WS_PORT: '70000', OFFLINE_IN_PROCESS: 'yes' }, '/x'),
      ),
    ).toEqual([
      'OFFLINE_WS_PORT: must be an integer 1-65535',
      'OFFLINE_IN_PROCESS: must be true or false',
    ]);
  });
});
