// The deploy files checked by the real tools, from Debian's packages (installed by `npm run
// setup`): `nginx -t` on the site template rendered with a self-signed certificate, and
// `systemd-analyze verify` on the unit, which must pass without a single warning. The cloud-init
// user data is checked for what it must contain and that it carries these same files.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { nginxConfigTest } from '@reactometer/devkit/nginx';
import { DEPLOY_DIR, renderSite, selfSignedCert } from './support/deploy-stack.js';

const UNIT = new URL('systemd/reactometer-droplet.service', DEPLOY_DIR);

describe('deploy files', () => {
  it('the nginx site passes nginx -t (self-signed certificate, production read timeout)', () => {
    const cert = selfSignedCert();
    try {
      const site = renderSite({
        httpPort: 8080,
        httpsPort: 8443,
        upstream: '127.0.0.1:3000',
        cert,
        wsReadTimeout: '75s',
      });
      const result = nginxConfigTest(site);
      expect(result.output).toMatch(/syntax is ok/);
      expect(result.ok).toBe(true);
    } finally {
      cert.remove();
    }
  });

  it('the systemd unit passes systemd-analyze verify without warnings', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reactometer-unit-'));
    try {
      const file = path.join(dir, 'reactometer-droplet.service');
      copyFileSync(UNIT, file);
      // verify checks that ExecStart's binary exists; where Node lives elsewhere, point at it.
      if (process.execPath !== '/usr/bin/node') {
        writeFileSync(
          file,
          readFileSync(file, 'utf8').replace(
            'ExecStart=/usr/bin/node',
            `ExecStart=${process.execPath}`,
          ),
        );
      }
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      expect({ status: r.status, output: `${r.stdout}${r.stderr}`.trim() }).toEqual({
        status: 0,
        output: '',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the unit raises the open-file limit, restarts on failure and is sandboxed', () => {
    const unit = readFileSync(UNIT, 'utf8');
    for (const line of [
      'LimitNOFILE=65536',
      'Restart=on-failure',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ExecStart=/usr/bin/node --enable-source-maps /opt/reactometer/current/main.js',
    ])
      expect(unit).toContain(line);
  });

  it('the cloud-init user data installs the same unit and site it is tested with', () => {
    const userData = readFileSync(new URL('cloud-init/user-data.yaml', DEPLOY_DIR), 'utf8');
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    const indented = (text: string): string =>
      text
        .trimEnd()
        .split('\n')
        .map((l) => (l === '' ? '' : `      ${l}`))
        .join('\n');
    expect(userData).toContain(indented(readFileSync(UNIT, 'utf8')));
    expect(userData).toContain(
      indented(readFileSync(new URL('nginx/reactometer.conf.template', DEPLOY_DIR), 'utf8')),
    );
  });
});
