/**
 * The droplet under chaos: FerretDB on PostgreSQL (devkit's starter, fresh data folder), the
 * droplet as its own process (`node dist/main.js`) with its inbox journal in a folder that
 * outlives a restart, on a fixed port so that dashboards and Slack find it again.
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TEST_SIGNING_SECRET } from '@reactometer/devkit';
import { startDropletProcess, type DropletProcess } from '@reactometer/devkit/droplet';
import { startFerretDb } from '@reactometer/devkit/ferretdb';
import type { ChaosTarget } from './chaos-target.js';

export async function startDropletTarget(log: (line: string) => void): Promise<ChaosTarget> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'reactometer-chaos-droplet-'));
  const ferret = await startFerretDb({ dataDir: path.join(root, 'ferretdb') });
  const env = {
    MONGODB_URI: ferret.uri,
    MONGODB_DB: 'chaos',
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    INBOX_DIR: path.join(root, 'inbox'),
    LOG_LEVEL: process.env.CHAOS_DROPLET_LOG === undefined ? 'warn' : 'debug',
  };
  // CHAOS_DROPLET_LOG=<file>: the droplet's JSON log lines (debug) go there, for a post-mortem.
  const logFile = process.env.CHAOS_DROPLET_LOG;
  const logging =
    logFile === undefined
      ? {}
      : { onLogLine: (line: string) => appendFileSync(logFile, `${line}\n`) };
  let droplet: DropletProcess = await startDropletProcess({ env, stderr: 'ignore', ...logging });
  const port = droplet.port;
  log(`droplet pid ${droplet.pid} on ${droplet.httpUrl}, FerretDB ${ferret.uri}`);
  return {
    name: 'droplet',
    httpUrl: () => droplet.httpUrl,
    wsUrl: () => droplet.wsUrl,
    signingSecret: TEST_SIGNING_SECRET,
    killDatabase: () => ferret.kill(),
    startDatabase: () => ferret.start(),
    restartApplication: async () => {
      await droplet.process.stop({ signal: 'SIGKILL', graceMs: 0 });
      droplet = await startDropletProcess({ env, port, stderr: 'ignore', ...logging });
      log(`droplet restarted: pid ${droplet.pid}`);
    },
    teardown: async () => {
      await droplet.stop();
      await ferret.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
