/**
 * `k6/execution`, after internal/js/modules/k6/execution/execution.go (v2.2.0): `scenario.*` throws
 * outside an iteration (init, setup, teardown: "getting scenario information outside of the VU
 * context is not supported"), `instance.*` and `test.options` throw in the init context,
 * `test.abort()` stops the whole test, `test.fail()` marks it failed and goes on.
 */
import type { VuHost } from '../vu-host.js';

export interface ExecutionHooks {
  /** exec.test.fail(): the run goes on but exits non-zero (k6: exit code 110). */
  markFailed(reason: string): void;
}

export function executionModule(host: VuHost, hooks: ExecutionHooks): Record<string, unknown> {
  const scenarioState = () => {
    const s = host.state();
    if (s === null || s.scenario === null) {
      throw host.error('getting scenario information outside of the VU context is not supported');
    }
    return s.scenario;
  };
  const inVu = (what: string) => {
    const s = host.state();
    if (s === null)
      throw host.error(`getting ${what} information in the init context is not supported`);
    return s;
  };
  const scenario = Object.defineProperties(
    {},
    {
      name: { enumerable: true, get: () => scenarioState().name },
      executor: { enumerable: true, get: () => scenarioState().executor },
      startTime: { enumerable: true, get: () => scenarioState().startTime },
      progress: { enumerable: true, get: () => scenarioState().progress },
      iterationInInstance: { enumerable: true, get: () => scenarioState().iterationInInstance },
      iterationInTest: { enumerable: true, get: () => scenarioState().iterationInTest },
    },
  );
  const instance = Object.defineProperties(
    {},
    {
      currentTestRunDuration: {
        enumerable: true,
        get: () => inVu('instance').instance.currentTestRunDuration,
      },
      iterationsCompleted: {
        enumerable: true,
        get: () => inVu('instance').instance.iterationsCompleted,
      },
      iterationsInterrupted: {
        enumerable: true,
        get: () => inVu('instance').instance.iterationsInterrupted,
      },
      vusActive: { enumerable: true, get: () => inVu('instance').instance.vusActive },
      vusInitialized: { enumerable: true, get: () => inVu('instance').instance.vusInitialized },
    },
  );
  const vu = Object.defineProperties(
    {},
    {
      idInInstance: { enumerable: true, get: () => host.vuId },
      idInTest: { enumerable: true, get: () => host.vuId },
      iterationInInstance: { enumerable: true, get: () => inVu('VU').iterationInInstance },
      iterationInScenario: {
        enumerable: true,
        get: () => {
          scenarioState();
          return inVu('VU').iterationInScenario;
        },
      },
      tags: { enumerable: true, get: () => inVu('VU').tags },
    },
  );
  const test = Object.defineProperties(
    {},
    {
      abort: {
        enumerable: true,
        value: (msg?: unknown) => host.abortTest(msg === undefined ? '' : String(msg)),
      },
      fail: {
        enumerable: true,
        value: (msg?: unknown) => {
          if (host.state() === null)
            throw host.error('execution.test.fail() called outside of VU context');
          const reason = `test marked as failed${msg === undefined ? '' : `: ${String(msg)}`}`;
          host.log('error', reason);
          hooks.markFailed(reason);
        },
      },
      options: {
        enumerable: true,
        get: () => {
          inVu('test');
          return host.options();
        },
      },
    },
  );
  const api = { scenario, instance, vu, test };
  return { __esModule: true, default: api, ...api };
}
