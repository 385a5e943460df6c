/**
 * The droplet's edge inside the test process (`createDroplet` on a free port), for tests that
 * need to reach into it: its broadcaster, a store wrapped to fail, a manual clock, a log capture.
 * Settings come from the droplet's own config loader, so the defaults are the production ones.
 */
import { createDroplet, type Droplet, type DropletOptions } from '@reactometer/legacy-server';
import { loadConfig, type DropletConfig } from '@reactometer/legacy-server/config';
import { TEST_SIGNING_SECRET } from '../dev-secret.js';
import { assertServersAllowed } from '../server-guard.js';

/**
 * Droplet settings from the real config loader: test defaults, plus the given variables. Without
 * an `INBOX_DIR` among them, the inbox folder is left out, so that each droplet gets a temporary
 * journal of its own (the configured default would be shared by every droplet of a test run).
 */
export function dropletTestSettings(
  env: Readonly<Record<string, string>> = {},
): Omit<DropletConfig, 'inboxDir'> & { readonly inboxDir?: string } {
  const { inboxDir, ...config } = loadConfig({
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...env,
  });
  return env.INBOX_DIR === undefined ? config : { ...config, inboxDir };
}

export interface InProcessDroplet {
  readonly droplet: Droplet;
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  stop(): Promise<void>;
}

export type InProcessDropletOptions = Omit<DropletOptions, 'signingSecret'> & {
  /** Default: `TEST_SIGNING_SECRET`. */
  readonly signingSecret?: string;
};

/** Starts a droplet edge on `options.port` (0: a free one) and resolves once it listens. */
export async function startInProcessDroplet(
  options: InProcessDropletOptions,
): Promise<InProcessDroplet> {
  assertServersAllowed('an in-process droplet');
  const droplet = createDroplet({ signingSecret: TEST_SIGNING_SECRET, ...options });
  const address = await droplet.start();
  return {
    droplet,
    port: address.port,
    httpUrl: `http://127.0.0.1:${address.port}`,
    wsUrl: `ws://127.0.0.1:${address.port}/ws`,
    stop: () => droplet.stop(),
  };
}
