// One Jest run over every workspace. Tests are native ESM (`--experimental-vm-modules`, set by
// `npm test`) with TypeScript compiled by SWC, so the code under test runs as it does in production.
//
// Two kinds of test, told apart by file name: `*.integration.test.ts` start real servers
// (FerretDB, dynalite, serverless-offline, droplets, Chromium); every other `*.test.ts(x)` needs
// none. REACTOMETER_TESTS=unit|integration (set by `npm run test:unit` / `test:integration`)
// runs one kind; unset, `npm test` runs both.
const KIND = process.env.REACTOMETER_TESTS ?? 'all';
if (!['unit', 'integration', 'all'].includes(KIND)) {
  throw new Error(`REACTOMETER_TESTS: must be unit, integration or all (got ${KIND})`);
}
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', tsx: true },
      transform: { react: { runtime: 'automatic' } },
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

/** @param {string} name @param {Partial<import('jest').Config>} extra */
function project(name, extra = {}) {
  return {
    displayName: name,
    rootDir: `<rootDir>/${name}`,
    testEnvironment: 'node',
    extensionsToTreatAsEsm: ['.ts', '.tsx'],
    transform: { '^.+\\.tsx?$': swc },
    // Source files import each other as `./x.js` (NodeNext ESM); map those to the .ts sources.
    moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
    testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/test/**/*.test.tsx'],
    ...extra,
    testPathIgnorePatterns: [
      '/node_modules/',
      ...(extra.testPathIgnorePatterns ?? []),
      ...(KIND === 'unit' ? ['\\.integration\\.test\\.tsx?$'] : []),
      ...(KIND === 'integration' ? ['(?<!\\.integration)\\.test\\.tsx?$'] : []),
    ],
  };
}

/** @type {import('jest').Config} */
export default {
  rootDir: '.',
  projects: [
    project('shared'),
    project('cli'),
    project('devkit'),
    project('legacy-server'),
    project('serverless'),
    project('loadtest'),
    project('migration'),
    // The dashboard: component tests in jsdom, end-to-end tests in Node driving a real Chromium.
    project('web', {
      testEnvironment: 'jsdom',
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/'],
      setupFilesAfterEnv: ['<rootDir>/test/support/setup-dom.ts'],
      moduleNameMapper: {
        '^(\\.{1,2}/.*)\\.js$': '$1',
        '^virtual:emoji-table$': '<rootDir>/test/support/emoji-table.ts',
      },
    }),
    {
      ...project('web', { testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] }),
      displayName: 'web-e2e',
    },
  ],
  testTimeout: 30_000,
};
