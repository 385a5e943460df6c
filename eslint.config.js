import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';

/** Modules the domain core must never import (DESIGN.md, "The one rule"). */
export const CORE_FORBIDDEN_IMPORTS = [
  { name: 'express', message: 'shared/ is the pure core: HTTP belongs to the deployments.' },
  { name: 'ws', message: 'shared/ is the pure core: sockets belong to the deployments.' },
  { name: 'mongodb', message: 'shared/ is the pure core: use the ReactionStore port.' },
  { name: 'react', message: 'shared/ is the pure core: UI belongs to web/.' },
  { name: 'react-dom', message: 'shared/ is the pure core: UI belongs to web/.' },
];
export const CORE_FORBIDDEN_PATTERNS = [
  {
    group: ['@aws-sdk/*', 'express/*', 'ws/*', 'mongodb/*', 'react/*', 'react-dom/*'],
    message: 'shared/ is the pure core: I/O belongs to the deployments.',
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.data/**',
      '.tools/**',
      'coverage/**',
      'test-artifacts/**',
      '**/*.planted-violation.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // CommonJS configuration files (dependency-cruiser reads .cjs).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The core: no I/O libraries and no environment. Test support may use ws/jest, but not env.
    files: ['shared/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: CORE_FORBIDDEN_IMPORTS, patterns: CORE_FORBIDDEN_PATTERNS },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'shared/ reads no environment: pass config in from the composition root.',
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process']",
          message: 'shared/ must not touch process: pass what it needs through ports.',
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'shared/ must not touch process.' },
      ],
    },
  },
  {
    // The dashboard runs in the browser; its tests, scripts and Vite config run in Node too.
    files: ['web/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: { ...globals.browser } },
    rules: reactHooks.configs.flat.recommended.rules,
  },
  {
    files: ['web/test/**/*.{ts,tsx}', 'web/scripts/**/*.ts', 'web/vite.config.ts'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
