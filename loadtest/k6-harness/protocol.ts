/**
 * Messages between the three kinds of thread the harness runs, mirroring k6's split between the
 * VU's JavaScript event loop and the Go goroutines that do its I/O:
 *
 * - the engine (the caller's thread) schedules iterations, aggregates samples, evaluates thresholds;
 * - one VU worker per k6 VU runs the script in its own node:vm context;
 * - one network worker does every HTTP request and WebSocket for all VUs, stamping each received
 *   frame with the time it was read (as k6's readPump goroutine does), so a VU that is blocked in
 *   `sleep()` or a sync request does not stop frames being read.
 *
 * A VU blocks on a sync request exactly as a k6 VU does (only that VU): it posts the request, then
 * `Atomics.wait`s on its own SharedArrayBuffer until the network worker posts the reply on a
 * dedicated port and notifies; the VU then takes the reply with `receiveMessageOnPort`.
 */

import type { MessagePort } from 'node:worker_threads';

/** k6 tags: string values only. */
export type Tags = Record<string, string>;

export interface HttpRequestMessage {
  readonly op: 'http';
  readonly id: number;
  readonly sync: boolean;
  readonly method: string;
  readonly url: string;
  readonly body: string | Uint8Array | null;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
  /** 'text' | 'binary' | 'none' (k6 responseType; discardResponseBodies maps to 'none'). */
  readonly responseType: 'text' | 'binary' | 'none';
}

export interface HttpReply {
  readonly op: 'http';
  readonly id: number;
  readonly status: number;
  readonly body: string | Uint8Array | null;
  readonly headers: Record<string, string>;
  readonly url: string;
  readonly error: string;
  readonly errorCode: number;
  readonly durationMs: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

export type NetRequest =
  | HttpRequestMessage
  | {
      readonly op: 'wsOpen';
      readonly id: number;
      readonly url: string;
      readonly protocols: string[];
      readonly headers: Record<string, string>;
    }
  | { readonly op: 'wsSend'; readonly id: number; readonly data: string | Uint8Array }
  | { readonly op: 'wsPing'; readonly id: number }
  | { readonly op: 'wsClose'; readonly id: number; readonly code: number; readonly reason: string }
  /**
   * close() on a CONNECTING socket: k6 pushes the close frame into an unbuffered channel that only
   * the write loop reads, and that loop starts once connected; so the VU blocks until then. The
   * reply (sync) comes when the socket opened (and the close frame went out) or failed.
   */
  | {
      readonly op: 'wsCloseWhenOpen';
      readonly id: number;
      readonly code: number;
      readonly reason: string;
    };

export type WsEvent =
  | { readonly op: 'ws'; readonly id: number; readonly kind: 'open'; readonly t: number }
  | {
      readonly op: 'ws';
      readonly id: number;
      readonly kind: 'message';
      readonly t: number;
      readonly data: string | Uint8Array;
      readonly binary: boolean;
    }
  | {
      readonly op: 'ws';
      readonly id: number;
      /** The handshake failed (refused, bad status, timeout): k6 reports error then close. */
      readonly kind: 'failed';
      readonly t: number;
      readonly error: string;
      readonly status: number;
    }
  | {
      readonly op: 'ws';
      readonly id: number;
      readonly kind: 'closed';
      readonly t: number;
      readonly code: number;
      readonly reason: string;
    }
  | { readonly op: 'ws'; readonly id: number; readonly kind: 'ping' | 'pong'; readonly t: number };

export type NetEvent = HttpReply | WsEvent;

/** The reply to wsCloseWhenOpen (on the sync port). */
export interface CloseWhenOpenReply {
  readonly op: 'wsCloseWhenOpen';
  readonly id: number;
  readonly opened: boolean;
}

/** Engine -> network worker. */
export type NetControl =
  | {
      readonly op: 'attach';
      readonly vu: number;
      readonly events: MessagePort;
      readonly sync: MessagePort;
      readonly signal: SharedArrayBuffer;
    }
  /** The VU is gone (interrupted or finished): close its sockets, drop its requests. */
  | { readonly op: 'detach'; readonly vu: number }
  | { readonly op: 'stop' };

/** What a sample carries from a VU to the engine. */
export interface SampleMessage {
  readonly metric: string;
  readonly value: number;
  readonly tags: Tags;
  readonly time: number;
}

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';
export type MetricContains = 'default' | 'time' | 'data';

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly contains: MetricContains;
}

/** The scenario state a VU reads through k6/execution during an iteration. */
export interface ScenarioInfo {
  readonly name: string;
  readonly executor: string;
  readonly startTime: number;
  readonly progress: number;
  readonly iterationInInstance: number;
  readonly iterationInTest: number;
  readonly tags: Tags;
}

/** Engine -> VU worker. */
export type VuCommand =
  | {
      readonly op: 'iterate';
      readonly fn: string;
      readonly data: string | null;
      readonly scenario: ScenarioInfo;
      readonly iterationInScenario: number;
      readonly instance: InstanceInfo;
    }
  | {
      readonly op: 'call';
      readonly fn: 'setup' | 'teardown' | 'handleSummary';
      /** JSON of the argument (setup data, summary data). */
      readonly arg: string | null;
    };

export interface InstanceInfo {
  readonly currentTestRunDuration: number;
  readonly iterationsCompleted: number;
  readonly iterationsInterrupted: number;
  readonly vusActive: number;
  readonly vusInitialized: number;
}

/** VU worker -> engine. */
export type VuReport =
  | {
      readonly op: 'initDone';
      readonly exports: string[];
      /** JSON of `options` as exported (functions dropped, as k6 JSON-encodes them). */
      readonly options: string;
      readonly metrics: MetricDefinition[];
    }
  | { readonly op: 'initFailed'; readonly error: string }
  | {
      readonly op: 'samples';
      readonly samples: SampleMessage[];
      readonly metrics: MetricDefinition[];
    }
  | { readonly op: 'log'; readonly level: string; readonly text: string }
  | {
      readonly op: 'iterationDone';
      readonly error: string | null;
      readonly durationMs: number;
    }
  | { readonly op: 'callDone'; readonly error: string | null; readonly result: string | null }
  | { readonly op: 'abort'; readonly reason: string }
  /** A harness finding the script would hit on real k6 (e.g. a VU blocked forever). */
  | { readonly op: 'finding'; readonly text: string };

/** k6's error codes for failed requests (lib/netext/httpext/error_codes.go). */
export const HTTP_ERROR_CODES = {
  generic: 1000,
  requestTimeout: 1050,
  connectionRefused: 1212,
} as const;
