/**
 * Who may open a dashboard socket, decided in the `upgrade` handler before `handleUpgrade` (so a
 * refused client never costs a WebSocket): a browser Origin on ALLOWED_ORIGINS (403), at most
 * WS_MAX_CONNECTIONS_PER_ADDRESS sockets per client address (429), and with DASHBOARD_AUTH on a
 * viewer token in the `token` query parameter (401), since browsers cannot set headers on a
 * WebSocket. The same decision as the serverless `$connect` authorizer (`authorizeViewer`).
 */
import type http from 'node:http';
import { ReactometerError, type Clock } from '@reactometer/shared';
import {
  assertOriginAllowed,
  authorizeViewer,
  type ViewerAccessConfig,
} from '@reactometer/shared/auth';
import { clientAddress, type TrustFn } from '../http/client-address.js';

export interface UpgradeAdmissionOptions {
  readonly access: ViewerAccessConfig;
  readonly clock: Clock;
  readonly maxPerAddress: number;
  /** Express's compiled TRUST_PROXY function. */
  readonly trust: TrustFn;
}

export interface Admitted {
  readonly address: string;
  readonly viewer: string;
  /** Gives the address's slot back; call once, when the socket is gone (or never opened). */
  readonly release: () => void;
}

export interface UpgradeAdmission {
  /** Resolves with the admitted client, or rejects with the error to answer. */
  admit(req: http.IncomingMessage): Promise<Admitted>;
  /** Sockets held per address now (tests, metrics). */
  openFrom(address: string): number;
}

function tokenOf(req: http.IncomingMessage): string | undefined {
  const token = new URL(req.url ?? '/', 'http://droplet').searchParams.get('token');
  return token === null ? undefined : token;
}

export function upgradeAdmission(options: UpgradeAdmissionOptions): UpgradeAdmission {
  const perAddress = new Map<string, number>();

  const take = (address: string): (() => void) => {
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
    };
  };

  return {
    openFrom: (address) => perAddress.get(address) ?? 0,
    async admit(req) {
      const origin = req.headers.origin;
      // Cheapest first: a foreign page is refused before its token costs a verification.
      assertOriginAllowed(origin, options.access.allowedOrigins);
      const address = clientAddress(req, options.trust);
      if ((perAddress.get(address) ?? 0) >= options.maxPerAddress) {
        throw new ReactometerError(
          'too_many_address_connections',
          `this address already holds ${options.maxPerAddress} WebSockets; close one or retry later`,
        );
      }
      // Taken before the (asynchronous) token check, so that a burst cannot overshoot the cap.
      const release = take(address);
      try {
        const viewer = await authorizeViewer(options.access, {
          origin,
          token: tokenOf(req),
          nowMs: options.clock.now(),
          checkOrigin: false,
        });
        return { address, viewer: viewer.sub, release };
      } catch (err) {
        release();
        throw err;
      }
    },
  };
}
