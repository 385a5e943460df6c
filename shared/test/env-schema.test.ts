import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import {
  ConfigError,
  describeEnvKeys,
  integer,
  nonEmpty,
  oneOf,
  readEnvKeys,
  spec,
} from '../src/index.js';
import { configProblems } from '../src/testing/index.js';

const KEYS = {
  PORT: spec({
    description: 'TCP port.',
    defaultText: '3000',
    schema: integer(0, 65535),
    fallback: () => 3000,
  }),
  NAME: spec({ description: 'A name.', defaultText: '(required)', schema: nonEmpty('a name') }),
  URL: spec<string>({
    description: 'An optional URL.',
    defaultText: '(none)',
    schema: z
      .string()
      .trim()
      .regex(/^https?:\/\//, 'must be an http(s) URL'),
    optional: true,
  }),
};

describe('env schema', () => {
  it('parses values, applies fallbacks and leaves unset optional keys undefined', () => {
    expect(readEnvKeys(KEYS, { NAME: ' x ', PORT: ' 8080 ' }, ['PORT', 'NAME', 'URL'])).toEqual({
      PORT: 8080,
      NAME: 'x',
      URL: undefined,
    });
    expect(readEnvKeys(KEYS, { NAME: 'x', PORT: '' }, ['PORT']).PORT).toBe(3000);
    // serverless.yml's `${env:X, null}` reaches handlers under the emulators as null: unset.
    expect(readEnvKeys(KEYS, { NAME: 'x', PORT: null }, ['PORT']).PORT).toBe(3000);
  });

  it('reports every problem at once, in key order, each naming its variable', () => {
    const env = { PORT: '65536', NAME: '   ', URL: 'ftp://x' };
    expect(configProblems(() => readEnvKeys(KEYS, env, ['PORT', 'NAME', 'URL']))).toEqual([
      'PORT: must be an integer 0-65535',
      'NAME: is required (A name.)',
      'URL: must be an http(s) URL',
    ]);
    expect(() => readEnvKeys(KEYS, env, ['PORT'])).toThrow(
      'invalid configuration: PORT: must be an integer 0-65535',
    );
  });

  it('only reads the keys asked for', () => {
    expect(readEnvKeys(KEYS, { PORT: '1' }, ['PORT'])).toEqual({ PORT: 1 });
  });

  it('accepts only whole numbers in range', () => {
    const port = integer(1, 10);
    expect(port.safeParse('10').data).toBe(10);
    for (const bad of ['0', '11', '1.5', '-1', 'ten', '99999999999999999999']) {
      expect(port.safeParse(bad).error?.issues[0]?.message).toBe('must be an integer 1-10');
    }
  });

  it('accepts one of a list, after normalising', () => {
    const level = oneOf(['INFO', 'WARN'], (s) => s.toUpperCase());
    expect(level.safeParse(' warn ').data).toBe('WARN');
    expect(level.safeParse('loud').error?.issues[0]?.message).toBe('must be one of INFO, WARN');
    expect(oneOf(['a', 'b']).safeParse('A').success).toBe(false);
  });

  it('carries a stable code and lists its problems one a line', () => {
    const err = new ConfigError(['A: bad', 'B: worse']);
    expect(err).toMatchObject({ code: 'invalid_config', name: 'ConfigError' });
    expect(err.message).toBe('invalid configuration: A: bad; B: worse');
    expect(err.listing()).toBe('invalid configuration:\n  A: bad\n  B: worse');
  });

  it('describes every key in a Prettier-padded Markdown table', () => {
    expect(describeEnvKeys(KEYS).split('\n')).toEqual([
      '| variable | default    | description      |',
      '| -------- | ---------- | ---------------- |',
      '| `PORT`   | 3000       | TCP port.        |',
      '| `NAME`   | (required) | A name.          |',
      '| `URL`    | (none)     | An optional URL. |',
    ]);
  });

  it('can leave the cells unpadded', () => {
    expect(describeEnvKeys({ PORT: KEYS.PORT }, { padded: false })).toBe(
      '| variable | default | description |\n| --- | --- | --- |\n| `PORT` | 3000 | TCP port. |',
    );
  });
});
