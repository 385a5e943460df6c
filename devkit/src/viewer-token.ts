/**
 * Viewer tokens for tests and launchers: the token command run as `npm run token` runs it (its
 * stdout is the token and nothing else), and the secret the test suites sign with.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './paths.js';

/** DASHBOARD_TOKEN_SECRET of the test suites (any 32+ characters would do). */
export const TEST_TOKEN_SECRET = 'test-dashboard-token-secret-0123456789abcdef';

/** Runs `npm run token -- --sub SUB --ttl TTL` (its script's file, without npm) and returns stdout. */
export function cliViewerToken(secret: string, sub = 'test-viewer', ttl = '10m'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'cli', 'src', 'token-cli.ts'),
        '--sub',
        sub,
        '--ttl',
        ttl,
      ],
      { cwd: REPO_ROOT, env: { ...process.env, DASHBOARD_TOKEN_SECRET: secret }, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`npm run token failed: ${stderr || err.message}`));
        else resolve(stdout.trim());
      },
    );
  });
}
