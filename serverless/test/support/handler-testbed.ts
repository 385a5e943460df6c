/**
 * The WebSocket and fan-out handlers on a real local backend (handler-env.ts) and a management
 * API that answers like AWS's (aws-management-api.ts), imported after their environment is set
 * (handlers read it at module scope): what the handler tests share.
 */
import type { SNSEvent } from 'aws-lambda';
import type { FanOutResult } from '../../src/handlers/fanout.js';
import type { wsEvent } from './events.js';
import { startManagementApi, type ManagementApi } from './aws-management-api.js';
import { applyEnv, startHandlerBackend, type HandlerBackend } from './handler-env.js';

export type WsHandler = (event: ReturnType<typeof wsEvent>) => Promise<{ statusCode: number }>;
export type FanoutHandler = (event: SNSEvent) => Promise<FanOutResult>;

export interface HandlerTestbed {
  readonly backend: HandlerBackend;
  readonly api: ManagementApi;
  readonly ws: WsHandler;
  readonly fanout: FanoutHandler;
  stop(): Promise<void>;
}

/** Starts the backend and the management API, sets `env` over theirs, imports both handlers. */
export async function startHandlerTestbed(
  env: Readonly<Record<string, string>>,
): Promise<HandlerTestbed> {
  const backend = await startHandlerBackend();
  const api = await startManagementApi();
  applyEnv({ ...backend.env, WS_MANAGEMENT_ENDPOINT: api.endpoint, ...env });
  const { handler: ws } = (await import('../../src/handlers/ws.js')) as { handler: WsHandler };
  const { handler: fanout } = (await import('../../src/handlers/fanout.js')) as {
    handler: FanoutHandler;
  };
  return {
    backend,
    api,
    ws,
    fanout,
    async stop() {
      await api.stop();
      await backend.stop();
    },
  };
}
