import { describe, expect, it } from '@jest/globals';
import {
  FALLBACK_MAX_CONNECTIONS,
  maxConnectionsFromLimit,
  parseOpenFileSoftLimit,
} from '../src/index.js';

describe('the droplet connection cap', () => {
  it('reads the soft open-file limit from /proc/self/limits text', () => {
    const limits = [
      'Limit                     Soft Limit           Hard Limit           Units',
      'Max open files            20000                524288               files',
    ].join('\n');
    expect(parseOpenFileSoftLimit(limits)).toBe(20_000);
    expect(
      parseOpenFileSoftLimit(
        'Max open files            unlimited            unlimited            files',
      ),
    ).toBeNull();
    expect(parseOpenFileSoftLimit('')).toBeNull();
  });

  it('keeps descriptors for HTTP: 10% of the limit, at least 2000, at most half', () => {
    expect(maxConnectionsFromLimit(20_000)).toBe(18_000);
    expect(maxConnectionsFromLimit(1_048_576)).toBe(943_718);
    expect(maxConnectionsFromLimit(1_024)).toBe(512);
    expect(maxConnectionsFromLimit(null)).toBe(FALLBACK_MAX_CONNECTIONS);
  });
});
