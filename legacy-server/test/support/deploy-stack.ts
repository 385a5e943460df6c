/**
 * The droplet as deployed, on this machine: the built droplet (`node dist/main.js`) on a real
 * FerretDB, behind a real nginx running the site template from `deploy/nginx/` with a self-signed
 * certificate (openssl), on free ports. What differs from production is only what the template's
 * variables say (ports, certificate paths, a short read timeout to keep tests bounded).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePorts, TEST_SIGNING_SECRET } from '@reactometer/devkit';
import {
  startDropletProcess,
  startTestDatabase,
  type DropletProcess,
} from '@reactometer/devkit/droplet';
import { renderTemplate, startNginx, type NginxProcess } from '@reactometer/devkit/nginx';

export const DEPLOY_DIR = new URL('../../deploy/', import.meta.url);
export const SITE_TEMPLATE = readFileSync(
  new URL('nginx/reactometer.conf.template', DEPLOY_DIR),
  'utf8',
);

export interface SelfSignedCert {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly pem: string;
  remove(): void;
}

/** A throwaway certificate for `localhost` and 127.0.0.1, made with openssl. */
export function selfSignedCert(): SelfSignedCert {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'reactometer-tls-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return {
    dir,
    certFile,
    keyFile,
    pem: readFileSync(certFile, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface SiteVars {
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly upstream: string;
  readonly cert: SelfSignedCert;
  /** nginx time, e.g. `75s` or `2s`. */
  readonly wsReadTimeout: string;
}

/** The site template with this machine's values. */
export function renderSite(vars: SiteVars): string {
  return (
    renderTemplate(SITE_TEMPLATE, {
      DOMAIN: 'localhost',
      TLS_CERT: vars.cert.certFile,
      TLS_KEY: vars.cert.keyFile,
      HTTP_PORT: `127.0.0.1:${vars.httpPort}`,
      HTTPS_PORT: `127.0.0.1:${vars.httpsPort}`,
      DROPLET_UPSTREAM: vars.upstream,
      WS_READ_TIMEOUT: vars.wsReadTimeout,
    })
      // The template listens on IPv6 too; this machine's tests stay on 127.0.0.1.
      .replace(/^\s*listen \[::\]:.*$/gm, '')
  );
}

export interface DeployStack {
  readonly droplet: DropletProcess;
  readonly nginx: NginxProcess;
  readonly cert: SelfSignedCert;
  readonly httpsUrl: string;
  readonly wssUrl: string;
  /** The droplet's JSON log lines so far. */
  readonly logLines: string[];
  stop(): Promise<void>;
}

export async function startDeployStack(options: {
  readonly wsReadTimeout: string;
  readonly dropletEnv?: Readonly<Record<string, string>>;
}): Promise<DeployStack> {
  const db = await startTestDatabase();
  const cert = selfSignedCert();
  const logLines: string[] = [];
  let droplet: DropletProcess | undefined;
  let nginx: NginxProcess | undefined;
  const [httpPort, httpsPort] = (await freePorts(2)) as [number, number];
  try {
    droplet = await startDropletProcess({
      env: {
        MONGODB_URI: db.uri,
        MONGODB_DB: db.newDatabaseName(),
        SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
        LOG_LEVEL: 'info',
        // As in the deployed env file: nginx on the same host states the client address.
        TRUST_PROXY: 'loopback',
        ...options.dropletEnv,
      },
      onLogLine: (line) => logLines.push(line),
    });
    const site = renderSite({
      httpPort,
      httpsPort,
      upstream: `127.0.0.1:${droplet.port}`,
      cert,
      wsReadTimeout: options.wsReadTimeout,
    });
    nginx = await startNginx({ httpConfig: () => site, ports: [httpPort, httpsPort] });
  } catch (err) {
    await droplet?.stop();
    await db.cleanup();
    cert.remove();
    throw err;
  }
  const running = { droplet, nginx };
  return {
    ...running,
    cert,
    httpsUrl: `https://127.0.0.1:${httpsPort}`,
    wssUrl: `wss://127.0.0.1:${httpsPort}/ws`,
    logLines,
    stop: async () => {
      await running.nginx.stop();
      await running.droplet.stop();
      await db.cleanup();
      cert.remove();
    },
  };
}
