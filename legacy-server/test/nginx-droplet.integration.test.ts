// The droplet as deployed: the built droplet (`node dist/main.js`, no TypeScript loader) on a
// real FerretDB, behind a real nginx running `deploy/nginx/reactometer.conf.template` with a
// self-signed certificate. The shared contract suite runs through it over HTTPS and WSS; the rest
// checks what the proxy adds: idle dashboards outliving nginx's read timeout thanks to the
// heartbeat, the body limit, the client address, and the metrics listener staying private.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { metricNamesFor } from '@reactometer/shared';
import { describeDeploymentContract, WsTestClient } from '@reactometer/shared/contract-tests';
import { reactionEventPayload, signSlackBody } from '@reactometer/shared/testing';
import { eventually, sleep, TEST_SIGNING_SECRET } from '@reactometer/devkit';
import { startDeployStack, type DeployStack } from './support/deploy-stack.js';

/** Short, so the test is bounded; the heartbeat (500 ms) is well inside it, as 30 s is inside 75 s. */
const READ_TIMEOUT = '2s';
const HEARTBEAT_MS = '500';

describeDeploymentContract('droplet (built) behind nginx (HTTPS + WSS)', async () => {
  const stack = await startDeployStack({
    wsReadTimeout: READ_TIMEOUT,
    // Coalescing off, as for the in-process contract run (deployment-contract.integration.test.ts).
    dropletEnv: { WS_HEARTBEAT_MS: HEARTBEAT_MS, LOG_LEVEL: 'warn', BROADCAST_WINDOW_MS: '0' },
  });
  return {
    httpUrl: stack.httpsUrl,
    wsUrl: stack.wssUrl,
    signingSecret: TEST_SIGNING_SECRET,
    tls: { ca: stack.cert.pem },
    teardown: () => stack.stop(),
  };
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

function request(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer;
    ca?: string;
    localAddress?: string;
  } = {},
): Promise<Answer> {
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: options.method ?? 'GET',
        headers: {
          ...options.headers,
          ...(options.body ? { 'content-length': String(options.body.length) } : {}),
        },
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(options.body);
  });
}

let seq = 0;
function signedEvent(paddingBytes = 0): { body: Buffer; headers: Record<string, string> } {
  seq++;
  const now = Math.floor(Date.now() / 1000);
  const payload = reactionEventPayload({
    eventId: `EvNginx${process.pid}${seq}${Date.now()}`,
    type: 'reaction_added',
    user: `UNGINX${seq}`,
    reaction: `nginx-${process.pid}`,
    eventTs: `${now}.${String(seq).padStart(6, '0')}`,
    item: { type: 'message', channel: 'CNGINX', ts: `${now - 60}.000100` },
  });
  const body = paddingBytes > 0 ? { ...payload, padding: 'x'.repeat(paddingBytes) } : payload;
  return signSlackBody(TEST_SIGNING_SECRET, body, now);
}

/** POSTs a signed event to `/slack/events` at `baseUrl` (through nginx when it is the HTTPS one). */
function postEvent(
  baseUrl: string,
  event: { body: Buffer; headers: Record<string, string> },
  ca?: string,
): Promise<Answer> {
  return request(`${baseUrl}/slack/events`, {
    method: 'POST',
    headers: event.headers,
    body: event.body,
    ...(ca !== undefined ? { ca } : {}),
  });
}

describe('behind nginx', () => {
  let stack: DeployStack;
  beforeAll(async () => {
    stack = await startDeployStack({
      wsReadTimeout: READ_TIMEOUT,
      dropletEnv: { WS_HEARTBEAT_MS: HEARTBEAT_MS },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  it('runs the build: plain node on dist/main.js, no TypeScript loader in the process', () => {
    const cmdline = readFileSync(`/proc/${stack.droplet.pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline.some((a) => a.endsWith('legacy-server/dist/main.js'))).toBe(true);
    expect(cmdline.join(' ')).not.toMatch(/tsx/);
    const maps = readFileSync(`/proc/${stack.droplet.pid}/maps`, 'utf8');
    expect(maps).not.toMatch(/node_modules\/tsx/);
  });

  it("keeps viewer tokens out of nginx's access log (the query string is not logged)", async () => {
    const marker = `redaction-${process.pid}-${Date.now()}`;
    const client = await WsTestClient.connect(`${stack.wssUrl}?token=${marker}`, 10_000, {
      ca: stack.cert.pem,
    });
    await client.request({ action: 'ping' }, 'pong');
    await client.close();
    const log = await eventually(
      'the upgrade in the access log',
      () => readFileSync('/var/log/nginx/reactometer.access.log', 'utf8'),
      (text) => text.includes('GET /ws HTTP/1.1'),
    );
    expect(log).not.toContain(marker);
  });

  it('keeps an idle dashboard connected past nginx read timeout (the heartbeat is traffic) and still pushes to it', async () => {
    const client = await WsTestClient.connect(stack.wssUrl, 10_000, { ca: stack.cert.pem });
    try {
      await client.request({ action: 'ping' }, 'pong');
      await sleep(3 * 2_000 + 500); // three read timeouts with nothing sent by the client
      expect(client.isOpen).toBe(true);
      const event = signedEvent();
      const res = await postEvent(stack.httpsUrl, event, stack.cert.pem);
      expect(res.status).toBe(200);
      await client.waitUntil(
        () => client.messages.some((m) => m.type === 'update' && m.reactions.length > 0),
        { description: 'an update after the idle period' },
      );
    } finally {
      client.socket.terminate();
    }
  }, 30_000);

  it('without a heartbeat inside the read timeout, nginx cuts the idle dashboard (the pitfall the setting avoids)', async () => {
    const quiet = await startDeployStack({
      wsReadTimeout: '1s',
      dropletEnv: { WS_HEARTBEAT_MS: '60000', LOG_LEVEL: 'warn' },
    });
    try {
      const client = await WsTestClient.connect(quiet.wssUrl, 10_000, { ca: quiet.cert.pem });
      await client.request({ action: 'ping' }, 'pong');
      const started = Date.now();
      await client.closed;
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await quiet.stop();
    }
  }, 60_000);

  it('refuses a Slack body over 64 KiB at the proxy with the contract JSON 413; the droplet never sees it', async () => {
    const before = stack.logLines.length;
    const big = signedEvent(70 * 1024);
    const res = await postEvent(stack.httpsUrl, big, stack.cert.pem);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(res.text)).toEqual({
      error: { code: 'payload_too_large', message: expect.any(String) as unknown },
    });
    await sleep(200);
    expect(stack.logLines.slice(before).filter((l) => l.includes('/slack/events'))).toEqual([]);

    // Just under the limit passes the proxy and is the droplet's to answer.
    const fits = signedEvent(60 * 1024);
    const ok = await postEvent(stack.httpsUrl, fits, stack.cert.pem);
    expect(ok.status).toBe(200);

    // Reached directly (no proxy), the droplet refuses the same body with the same answer.
    const direct = await postEvent(stack.droplet.httpUrl, big);
    expect(direct.status).toBe(413);
    expect(JSON.parse(direct.text)).toMatchObject({ error: { code: 'payload_too_large' } });
  }, 30_000);

  it("logs the client's address as nginx states it, and a client cannot spoof it", async () => {
    const res = await request(`${stack.httpsUrl}/healthz?probe=client-ip`, {
      headers: { 'X-Forwarded-For': '203.0.113.9' },
      ca: stack.cert.pem,
      localAddress: '127.0.0.7',
    });
    expect(res.status).toBe(200);
    let line: { clientIp?: string } | undefined;
    for (let i = 0; i < 50 && line === undefined; i++) {
      const found = stack.logLines.find((l) => l.includes('"path":"/healthz"'));
      if (found !== undefined) line = JSON.parse(found) as { clientIp?: string };
      else await sleep(50);
    }
    expect(line?.clientIp).toBe('127.0.0.7');
  });

  it('serves Prometheus metrics, named as the Lambda metrics, on its own loopback listener only', async () => {
    const event = signedEvent();
    await postEvent(stack.httpsUrl, event, stack.cert.pem);
    const url = stack.droplet.metricsUrl;
    if (url === undefined) throw new Error('the metrics listener is off');
    const res = await request(url);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const names = [...res.text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]).sort();
    expect(names).toEqual(metricNamesFor('droplet'));
    // The edge stores events in the inbox (appended); the worker's count changes are counted apart.
    expect(res.text).toMatch(/^SlackEvents\{outcome="appended"\} [1-9]/m);
    expect(res.text).toMatch(/^CountChanges [1-9]/m);
    expect(res.text).toMatch(/^ConnectionsOpened [1-9]/m);

    // Not on the public side.
    const publicSide = await request(`${stack.httpsUrl}/metrics`, { ca: stack.cert.pem });
    expect(publicSide.status).toBe(404);
  });
});
