import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PortInUseError, resolvePorts } from '../src/offline/index.js';

let blocker: net.Server;
let taken: number;

beforeAll(async () => {
  blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  taken = (blocker.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => blocker.close(() => resolve()));
});

describe('resolvePorts', () => {
  it('says which port is taken, what it is for and which variable moves it', async () => {
    const err = await resolvePorts({ http: taken, ws: taken }, '127.0.0.1').catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as PortInUseError).message.split('\n')).toEqual([
      `port ${taken} (HTTP API) is already in use (set OFFLINE_HTTP_PORT to move it)`,
      `port ${taken} (WebSocket API) is already in use (set OFFLINE_WS_PORT to move it)`,
    ]);
  });

  it('fills the ports left out with distinct free ones', async () => {
    const ports = await resolvePorts({ lambda: 4003 === taken ? 4004 : 4003 }, '127.0.0.1').catch(
      async (err: unknown) => {
        // 4003 itself may be busy on a developer machine (a running local stack): then ask for none.
        if (err instanceof PortInUseError) return resolvePorts({}, '127.0.0.1');
        throw err;
      },
    );
    const values = Object.values(ports);
    expect(new Set(values).size).toBe(5);
    for (const port of values) expect(port).toBeGreaterThan(0);
  });
});
