/**
 * The ONE place that says which k6 versions the harness models, what differs between them, and
 * which grafana/k6 source files each shim follows. Everything version-dependent in the shims reads
 * a `K6Profile` from here; nothing else names a k6 version.
 *
 * Sources were read at the tags named below (grafana/k6 git tags). k6 v2.3.0 was not tagged in
 * the copy read; its one relevant change is grafana/k6#6306 ("Export constants for ReadyState in
 * websockets module", merged for v2.3.0), documented in grafana/k6-docs#2309.
 */

/** A module k6 registers (internal/js/jsmodules.go), and whether the harness has a shim for it. */
export interface ModuleInfo {
  readonly name: string;
  /** k6 still resolves it but only to throw ("has been graduated/removed"): importing fails. */
  readonly removed?: string;
}

export interface K6Profile {
  /** Profile id, also accepted by `--k6-version`. */
  readonly id: '1.6-2.2' | '2.3+';
  /** Inclusive lowest and exclusive highest k6 version the profile stands for. */
  readonly from: string;
  readonly below: string | null;
  /** Tag whose source the profile was written from. */
  readonly sourceTag: string;
  /** Every module `import` may name under this version (anything else fails the bundle). */
  readonly modules: readonly ModuleInfo[];
  /**
   * `WebSocket.CONNECTING/OPEN/CLOSING/CLOSED` on the constructor and on instances. Absent before
   * v2.3.0 (websockets.go Exports() has only `WebSocket` and `Blob`; readyState is a bare uint).
   */
  readonly wsReadyStateConstants: boolean;
}

/** Modules registered by both modelled ranges (identical lists in v1.6.0 and v2.2.0). */
const COMMON_MODULES: readonly ModuleInfo[] = [
  { name: 'k6' },
  { name: 'k6/browser' },
  { name: 'k6/crypto' },
  { name: 'k6/crypto/x509' },
  { name: 'k6/data' },
  { name: 'k6/encoding' },
  { name: 'k6/execution' },
  { name: 'k6/html' },
  { name: 'k6/http' },
  { name: 'k6/net/grpc' },
  { name: 'k6/metrics' },
  { name: 'k6/secrets' },
  { name: 'k6/timers' },
  // Registered from v1.6.0 on; v1.5.0 has only k6/experimental/websockets.
  { name: 'k6/websockets' },
  { name: 'k6/ws' },
  { name: 'k6/experimental/csv' },
  { name: 'k6/experimental/fs' },
  { name: 'k6/experimental/streams' },
  { name: 'k6/experimental/websockets' },
  { name: 'k6/experimental/browser', removed: 'graduated: use k6/browser' },
  { name: 'k6/experimental/grpc', removed: 'graduated: use k6/net/grpc' },
  { name: 'k6/experimental/timers', removed: 'graduated: timers are global and in k6/timers' },
  { name: 'k6/experimental/tracing', removed: 'removed' },
  { name: 'k6/experimental/webcrypto', removed: 'graduated: crypto is global' },
];

export const K6_PROFILES: readonly K6Profile[] = [
  {
    id: '1.6-2.2',
    from: '1.6.0',
    below: '2.3.0',
    sourceTag: 'v2.2.0',
    modules: [
      ...COMMON_MODULES,
      // v1.6 still loads it (deprecated); v2.x resolves it only to throw. Modelled as removed,
      // so a script relying on it fails under the whole range.
      { name: 'k6/experimental/redis', removed: 'removed in v2.0.0' },
    ],
    wsReadyStateConstants: false,
  },
  {
    id: '2.3+',
    from: '2.3.0',
    below: null,
    sourceTag: 'v2.2.0 + grafana/k6#6306',
    modules: [...COMMON_MODULES, { name: 'k6/experimental/redis', removed: 'removed in v2.0.0' }],
    wsReadyStateConstants: true,
  },
];

/** Modules the harness implements (shims in ./shims); a script importing another one fails. */
export const SHIMMED_MODULES = [
  'k6',
  'k6/crypto',
  'k6/execution',
  'k6/http',
  'k6/metrics',
  'k6/timers',
  'k6/websockets',
] as const;
export type ShimmedModule = (typeof SHIMMED_MODULES)[number];

/**
 * The k6 source each part of the harness follows (paths in grafana/k6 at `sourceTag`). Printed by
 * `--help` and cited in each shim's header.
 */
export const K6_SOURCES: Readonly<Record<string, string>> = {
  'module list': 'internal/js/jsmodules.go',
  'TypeScript, open(), import.meta.resolve, init-only globals':
    'internal/js/compiler/enhanced.go, internal/js/bundle.go, internal/js/initcontext.go',
  k6: 'internal/js/modules/k6/k6.go',
  'k6/http': 'js/modules/k6/http/request.go, js/modules/k6/http/response.go',
  'k6/metrics': 'internal/js/modules/k6/metrics/metrics.go, metrics/sink.go',
  'k6/crypto': 'internal/js/modules/k6/crypto/crypto.go',
  'k6/execution': 'internal/js/modules/k6/execution/execution.go',
  'k6/timers': 'internal/js/modules/k6/timers/timers.go',
  'k6/websockets':
    'internal/js/modules/k6/websockets/websockets.go, .../params.go (v2.3.0: grafana/k6#6306)',
  'event loop': 'internal/js/eventloop/eventloop.go',
  executors:
    'lib/executor/per_vu_iterations.go, constant_arrival_rate.go, ramping_vus.go, ramping_arrival_rate.go, base_config.go',
  thresholds: 'metrics/thresholds.go, metrics/thresholds_parser.go',
  'handleSummary data':
    'internal/js/summary.go, internal/js/summary-wrapper.js, internal/lib/summary/machine_readable.go',
};

/** Parses "2.2", "v2.3.1", "1.6.0"; null when not a version. */
export function parseVersion(text: string): [number, number, number] | null {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (m === null) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Thrown for a version the harness does not model; the message says which ones it does. */
export class UnmodelledVersionError extends Error {
  readonly code = 'unmodelled_k6_version';
  constructor(message: string) {
    super(message);
    this.name = 'UnmodelledVersionError';
  }
}

/** The profile modelling a k6 version ("2.2", "v2.3.0") or a profile id ("1.6-2.2", "2.3+"). */
export function profileFor(version: string): K6Profile {
  const byId = K6_PROFILES.find((p) => p.id === version);
  if (byId !== undefined) return byId;
  const v = parseVersion(version);
  const modelled = K6_PROFILES.map((p) => p.id).join(', ');
  if (v === null) {
    throw new UnmodelledVersionError(
      `"${version}" is not a k6 version (e.g. 2.2 or 2.3.0; modelled: ${modelled})`,
    );
  }
  for (const p of K6_PROFILES) {
    const from = parseVersion(p.from) as [number, number, number];
    const below = p.below === null ? null : (parseVersion(p.below) as [number, number, number]);
    if (compare(v, from) >= 0 && (below === null || compare(v, below) < 0)) return p;
  }
  throw new UnmodelledVersionError(
    `k6 ${version} is not modelled (modelled: ${modelled}); k6/websockets needs k6 >= 1.6.0`,
  );
}
