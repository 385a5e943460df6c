/**
 * The one rule of DESIGN.md: the core imports no I/O library and reads no environment. The lint
 * rule lives in eslint.config.js; this test proves it fires (a rule that cannot fail is no rule)
 * and that the real core passes it.
 */
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root });
const fixturePath = `${root}shared/src/boundary-fixture.ts`;

async function violations(code: string, filePath = fixturePath): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('shared/ boundary lint rule', () => {
  it.each([
    ["import express from 'express';\nexport const x = express;"],
    ["import { WebSocket } from 'ws';\nexport const x = WebSocket;"],
    ["import { MongoClient } from 'mongodb';\nexport const x = MongoClient;"],
    [
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport const x = DynamoDBClient;",
    ],
    ["import { useState } from 'react';\nexport const x = useState;"],
    ['export const x = process.env.SLACK_SIGNING_SECRET;'],
    ["export const x = process['env'];"],
    ['const { env } = process;\nexport const x = env;'],
  ])('fails on %j', async (code) => {
    const found = await violations(code);
    expect(found.some((m) => /^no-restricted-(imports|properties|syntax|globals)/.test(m))).toBe(
      true,
    );
  });

  it('allows the same code outside shared/', async () => {
    const found = await violations(
      "import express from 'express';\nexport const x = express;",
      `${root}legacy-server/src/boundary-fixture.ts`,
    );
    expect(found).toEqual([]);
  });

  it('passes on the real core', async () => {
    const results = await eslint.lintFiles(['shared/src/**/*.ts']);
    expect(results.length).toBeGreaterThan(10);
    const problems = results.flatMap((r) =>
      r.messages.map((m) => `${r.filePath}:${m.line} ${m.ruleId} ${m.message}`),
    );
    expect(problems).toEqual([]);
  });
});
