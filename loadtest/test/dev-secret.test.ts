import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { DEV_SIGNING_SECRET } from '@reactometer/devkit';

describe('the dev signing secret', () => {
  it('is the same literal in the k6 scripts, which cannot import it', () => {
    const k6Config = readFileSync(new URL('../k6/lib/config.ts', import.meta.url), 'utf8');
    const literal = /DEV_SIGNING_SECRET\s*=\s*'([^']+)'/.exec(k6Config)?.[1];
    expect(literal).toBe(DEV_SIGNING_SECRET);
  });
});
