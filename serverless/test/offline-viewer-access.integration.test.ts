/**
 * Issue 12 on the local serverless stack (serverless-offline runs the `$connect` authorizer):
 * the shared viewer-access suite with DASHBOARD_AUTH=token, then the WebSocket findings: actions
 * named after `Object.prototype` members get an answer, a client-written `$disconnect` does not
 * unregister a socket that stays open, and one malformed frame, which kills the emulator's whole
 * process, is survived thanks to the offline stack's watchdog.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  ALLOWED_TEST_ORIGIN,
  WsTestClient,
  viewerAccessContract,
} from '@reactometer/shared/contract-tests';
import { issueDashboardToken } from '@reactometer/shared/auth';
import { eventually, reactionEventPayload, signSlackBody } from '@reactometer/shared/testing';
import { TEST_TOKEN_SECRET, cliViewerToken } from '@reactometer/devkit';
import { startOfflineStack, type OfflineStack } from '@reactometer/devkit/offline';

const SIGNING_SECRET = `offline-access-${process.pid}`;
let started: Promise<OfflineStack> | undefined;
const stack = (): Promise<OfflineStack> =>
  (started ??= startOfflineStack({
    signingSecret: SIGNING_SECRET,
    // The refusals are logged at INFO: the log test below reads them.
    logLevel: 'INFO',
    env: {
      FANOUT_WINDOW_MS: '0',
      DASHBOARD_AUTH: 'token',
      DASHBOARD_TOKEN_SECRET: TEST_TOKEN_SECRET,
      ALLOWED_ORIGINS: ALLOWED_TEST_ORIGIN,
    },
  }));

const token = (): Promise<string> =>
  issueDashboardToken({
    secret: TEST_TOKEN_SECRET,
    sub: 'offline',
    ttlSeconds: 600,
    nowMs: Date.now(),
  });

afterAll(async () => {
  await (await started)?.stop();
}, 60_000);

viewerAccessContract('serverless offline', async () => {
  const s = await stack();
  return {
    httpUrl: s.httpUrl,
    wsUrl: s.wsUrl,
    tokenSecret: TEST_TOKEN_SECRET,
    cliToken: () => cliViewerToken(TEST_TOKEN_SECRET, 'wall-display'),
    // Shared with the tests below; stopped in afterAll.
    teardown: async () => undefined,
  };
});

describe('serverless offline: WebSocket routes', () => {
  const open = async (): Promise<WsTestClient> =>
    WsTestClient.connect(`${(await stack()).wsUrl}?token=${await token()}`, 15_000);

  it.each(['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'])(
    'answers the action %j with unknown_action (no prototype member is a route)',
    async (action) => {
      const client = await open();
      try {
        const reply = await client.request({ action }, 'error', 15_000);
        expect(reply).toMatchObject({ type: 'error', code: 'unknown_action' });
      } finally {
        await client.close();
      }
    },
    30_000,
  );

  it('keeps a socket registered after it writes {"action":"$disconnect"}: it still gets updates', async () => {
    const s = await stack();
    const client = await open();
    try {
      const reply = await client.request({ action: '$disconnect' }, 'error', 15_000);
      expect(reply).toMatchObject({ code: 'unknown_action' });
      const id = randomBytes(4).toString('hex');
      const emoji = `stay-${id}`;
      const payload = reactionEventPayload({
        eventId: `Ev${id}`,
        type: 'reaction_added',
        user: `U${id}`,
        reaction: emoji,
        eventTs: `${Math.floor(Date.now() / 1000)}.000100`,
        item: { type: 'message', channel: `C${id}`, ts: '1700000000.000100' },
      });
      const { body, headers } = signSlackBody(
        SIGNING_SECRET,
        payload,
        Math.floor(Date.now() / 1000),
      );
      const res = await fetch(`${s.httpUrl}/slack/events`, {
        method: 'POST',
        headers,
        body: new Uint8Array(body),
      });
      expect(res.status).toBe(200);
      await client.waitForMessage(
        (m) => m.type === 'update' && m.reactions.some((r) => r.emoji === emoji),
        { description: `an update for ${emoji}`, timeoutMs: 20_000 },
      );
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe('serverless offline: logs', () => {
  it('carry no token: neither the authorizer nor the functions log it or the query string', async () => {
    const s = await stack();
    const good = await token();
    const bad = `${good.slice(0, -4)}AAAA`;
    const client = await WsTestClient.connect(`${s.wsUrl}?token=${good}`, 15_000);
    await client.request({ action: 'ping' }, 'pong', 15_000);
    await client.close();
    expect(await WsTestClient.tryConnect(`${s.wsUrl}?token=${bad}`)).toMatchObject({ status: 401 });
    await fetch(`${s.httpUrl}/reactions?token=${good}`, {
      headers: { authorization: `Bearer ${bad}` },
    });
    await eventually(
      'the refusal to be logged',
      () => s.output(),
      (out) => out.includes('connect refused'),
    );
    const out = s.output();
    expect(out).not.toContain(good.split('.')[2]!);
    expect(out).not.toContain(bad.split('.')[2]!);
  }, 60_000);
});

describe('serverless offline: the watchdog', () => {
  it('restarts the emulator that one invalid UTF-8 frame kills; the stack answers again', async () => {
    const s = await stack();
    const socket = net.connect({ port: s.ports.ws, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      let head = '';
      socket.on('data', (c: Buffer) => {
        head += c.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        if (head.startsWith('HTTP/1.1 101')) resolve();
        else reject(new Error(head.split('\r\n')[0]));
      });
      void token().then((t) =>
        socket.write(
          `GET /?token=${t} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ),
      );
    });
    // A masked text frame whose one byte (0xff) is not UTF-8.
    const mask = randomBytes(4);
    socket.write(Buffer.from([0x81, 0x81, ...mask, 0xff ^ mask[0]!]));
    await eventually(
      'the watchdog to restart serverless offline',
      () => s.restarts(),
      (n) => n >= 1,
      {
        timeoutMs: 30_000,
      },
    );
    await eventually(
      'the restarted stack to answer GET /healthz',
      async () => (await fetch(`${s.httpUrl}/healthz`)).status,
      (status) => status === 200,
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    // Sockets work again too.
    const client = await WsTestClient.connect(`${s.wsUrl}?token=${await token()}`, 15_000);
    await client.request({ action: 'ping' }, 'pong', 15_000);
    await client.close();
    socket.destroy();
  }, 180_000);
});
