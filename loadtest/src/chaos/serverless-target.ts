/**
 * The serverless deployment under chaos: not available yet (the serverless inbox lands after
 * issue 9); `--target serverless` says so instead of running half a test.
 */
import type { ChaosTarget } from './chaos-target.js';

export function startServerlessTarget(_log: (line: string) => void): Promise<ChaosTarget> {
  return Promise.reject(
    new Error('--target serverless: the serverless inbox is not built yet on this branch'),
  );
}
