/**
 * Free ports and port probes for everything the toolkit starts: tests and launchers bind real
 * servers on ports the kernel hands out, never on fixed ones that another run may hold.
 */
import net from 'node:net';

/** Asks the kernel for a free TCP port on `host`, for servers that cannot listen on port 0. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  return port!;
}

/** `count` distinct free ports, held together while they are picked so none comes back twice. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.unref();
          server.once('error', reject);
          server.listen(0, host, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** True if something accepts TCP connections on host:port. */
export async function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** True when nothing can bind host:port right now (someone holds it, listening or not). */
export async function isPortTaken(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** Resolves once host:port accepts connections; fails naming `what` after `timeoutMs`. */
export async function waitForPort(
  port: number,
  options: {
    readonly host?: string;
    readonly what: string;
    readonly timeoutMs: number;
    /** Called between probes; throw to stop waiting (e.g. the process exited). */
    readonly check?: () => void;
  },
): Promise<void> {
  const host = options.host ?? '127.0.0.1';
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.check?.();
    if (await isPortOpen(port, host)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${options.what} did not listen on ${host}:${port} within ${options.timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
