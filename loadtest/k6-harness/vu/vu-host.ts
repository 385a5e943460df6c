/**
 * What the module shims of one VU share: its identity, the k6 version profile, the stage it is in
 * (init, setup/teardown, an iteration), its event loop, the network thread and the sample stream.
 */
import type { K6Profile } from '../k6-versions.js';
import type {
  HttpReply,
  InstanceInfo,
  MetricContains,
  MetricType,
  NetRequest,
  ScenarioInfo,
  Tags,
  WsEvent,
} from '../protocol.js';
import type { EventLoop } from './event-loop.js';

/** Set while an iteration (or setup/teardown/handleSummary) runs; null in the init context. */
export interface VuState {
  /** 'iteration' has a scenario; the lifecycle functions run without one (k6 throws then). */
  readonly stage: 'iteration' | 'setup' | 'teardown' | 'handleSummary';
  readonly scenario: ScenarioInfo | null;
  readonly iterationInInstance: number;
  readonly iterationInScenario: number;
  readonly instance: InstanceInfo;
  /** Tags every sample carries (scenario tags, `scenario`, exec.vu.tags). */
  readonly tags: Tags;
}

export interface VuHost {
  readonly profile: K6Profile;
  /** exec.vu.idInTest / __VU (0 for the init-only VU, setup, teardown and handleSummary). */
  readonly vuId: number;
  readonly loop: EventLoop;
  /** Consolidated options (JSON form), for discardResponseBodies, throw, executionSegment... */
  options(): Record<string, unknown>;
  state(): VuState | null;
  /** Builds an Error of the script's realm, so `instanceof Error` holds in the script. */
  error(message: string): Error;
  /** Async network request; events for it come to `onNet`. */
  send(req: NetRequest): void;
  /** Sync network request: blocks this VU's thread (only) until the reply. */
  sendSync<T>(req: NetRequest, timeoutMs: number): T;
  onHttpReply(id: number, handler: (reply: HttpReply) => void): void;
  onWsEvent(id: number, handler: (event: WsEvent) => void): void;
  nextId(): number;
  /** Records a sample with the VU's tags (custom metrics must be registered first). */
  emit(metric: string, value: number, tags?: Tags): void;
  registerMetric(name: string, type: MetricType, contains: MetricContains): void;
  log(level: 'info' | 'warn' | 'error' | 'debug', text: string): void;
  /** exec.test.abort(): the whole test stops (exit code 108). */
  abortTest(reason: string): never;
  /** Reports something the script does that would hang or break on real k6. */
  finding(text: string): void;
  /** Blocks the VU's thread for `ms` (k6's sleep blocks the VU, not the process). */
  block(ms: number): void;
  /** Sends queued samples to the engine now (before blocking). */
  flush(): void;
}
