/**
 * The client's address, as Express's `req.ip` computes it, for places that have no Express
 * request (the WebSocket upgrade): the peer, or what X-Forwarded-For says when the peer (and each
 * proxy before it) is trusted by TRUST_PROXY. Uses Express's own compiled trust function, so the
 * upgrade and the request log can never disagree about who a client is.
 */
import type http from 'node:http';

/** Express's `trust proxy fn`: is the address at this hop (0 = the peer) a trusted proxy? */
export type TrustFn = (address: string, hop: number) => boolean;

export function clientAddress(req: http.IncomingMessage, trust: TrustFn): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .reverse();
  // The chain from the nearest hop outwards; the first one not trusted is the client.
  const chain = [peer, ...forwarded];
  for (let hop = 0; hop < chain.length - 1; hop++) {
    if (!trust(chain[hop]!, hop)) return chain[hop]!;
  }
  return chain[chain.length - 1]!;
}
