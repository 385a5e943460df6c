/**
 * `k6/metrics`: Counter, Gauge, Rate, Trend, after internal/js/modules/k6/metrics/metrics.go and
 * metrics/registry.go (v2.2.0): created only in the init context, names must match
 * ^[a-zA-Z_][a-zA-Z0-9_]{1,128}$, a name reused with another type fails; add() outside a VU stage
 * fails, a NaN or null value is logged (or thrown with the `throw` option) and not recorded, a
 * boolean counts as 1/0, and the VU's tags (scenario, its tags) are merged under the call's tags.
 */
import type { MetricType } from '../../protocol.js';
import type { VuHost } from '../vu-host.js';

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]{1,128}$/;

export function metricsModule(host: VuHost): Record<string, unknown> {
  const declared = new Map<string, string>();
  const make = (type: MetricType) =>
    function Metric(this: unknown, name: unknown, isTime?: unknown) {
      if (!new.target) throw host.error(`${type} must be called with new`);
      if (host.state() !== null) throw host.error('metrics must be declared in the init context');
      const metricName = String(name);
      if (!NAME.test(metricName)) {
        throw host.error(
          `Invalid metric name: '${metricName}'. A metric name must only include up to 128 ASCII letters, numbers, or underscores and start with a letter or an underscore.`,
        );
      }
      const contains = isTime === true ? 'time' : 'default';
      const kind = `${type}/${contains}`;
      const existing = declared.get(metricName);
      if (existing !== undefined && existing !== kind) {
        throw host.error(
          `metric '${metricName}' already exists but with type ${existing}, instead of ${kind}`,
        );
      }
      declared.set(metricName, kind);
      host.registerMetric(metricName, type, contains);
      const add = (value: unknown, tags?: unknown): boolean => {
        const state = host.state();
        if (state === null)
          throw host.error('Adding to metrics in the init context is not supported');
        if (value === undefined || value === null) {
          host.log(
            'warn',
            `'${String(value)}' is an invalid value for metric '${metricName}', a number or a boolean value is expected`,
          );
          return false;
        }
        let v = Number(value);
        if (v === 0 && Boolean(value)) v = 1;
        if (Number.isNaN(v)) {
          const text = `'${String(value)}' is an invalid value for metric '${metricName}', a number or a boolean value is expected`;
          if (host.options()['throw'] === true) throw host.error(text);
          host.log('warn', text);
          return false;
        }
        const extra: Record<string, string> = {};
        if (tags !== undefined && tags !== null && typeof tags === 'object') {
          for (const [k, t] of Object.entries(tags as Record<string, unknown>))
            extra[k] = String(t);
        }
        host.emit(metricName, v, extra);
        return true;
      };
      Object.defineProperty(this, 'name', { value: metricName, enumerable: true });
      Object.defineProperty(this, 'add', { value: add });
    };
  const api = {
    Counter: make('counter'),
    Gauge: make('gauge'),
    Rate: make('rate'),
    Trend: make('trend'),
  };
  return { __esModule: true, default: api, ...api };
}
