/**
 * Everything a k6 script is configured with, read once in the init context: the target
 * (TARGET=droplet|serverless-local|aws and its URLs), the Slack signing secret, and the scenario
 * parameters from loadtest/scenarios/scenarios.json (the same file the Node runner plays), with
 * the `quick` overrides under QUICK=1 and one environment override per parameter.
 *
 * Every value is validated here and a bad one fails the run before any load, naming the variable.
 */

/** Deployments the scripts know how to reach. */
export type TargetName = 'droplet' | 'serverless-local' | 'aws';
export const TARGET_NAMES: readonly TargetName[] = ['droplet', 'serverless-local', 'aws'];

/** Same secret as the local launchers use when SLACK_SIGNING_SECRET is unset. */
export const DEV_SIGNING_SECRET = 'reactometer-dev-signing-secret';

export interface TargetConfig {
  readonly name: TargetName;
  /** Base URL of the HTTP API (no trailing slash). */
  readonly httpUrl: string;
  /** WebSocket URL clients connect to. */
  readonly wsUrl: string;
  /**
   * Undefined only for TARGET=aws without SLACK_SIGNING_SECRET; checked when first used (not at
   * init), so `k6 archive` works without the secret and runner pods can take it from a Secret.
   */
  readonly signingSecret: string | undefined;
  /** New WebSocket connections per second the target accepts (scenarios.json `targets`). */
  readonly maxNewConnectionsPerSecond: number;
  /** Share of that quota the ramps use, leaving room for other clients of the same account. */
  readonly rampHeadroom: number;
  /** What all VUs of the whole test (every k6 instance together) may open per second. */
  readonly connectRatePerSecond: number;
}

/** Parameters of each scenario, as in scenarios.json. */
export interface ScenarioParams {
  'connection-scaling': {
    steps: number[];
    holdSeconds: number;
    probeUpdates: number;
    stopWhenFailedRatioAbove: number;
  };
  'fan-out': {
    clients: number[];
    events: number;
    eventsPerSecond: number;
    deliveryTimeoutSeconds: number;
  };
  churn: {
    concurrentClients: number;
    connectionLifetimeSeconds: number[];
    durationSeconds: number;
    eventsPerSecond: number;
    settleSeconds: number;
  };
  ingest: { rates: number[]; stepSeconds: number };
  'idle-keepalive': { clients: number; pingIntervalSeconds: number; durationSeconds: number };
}
export type ScenarioName = keyof ScenarioParams;

type Kind = 'number' | 'list';
/** The shape each scenario's parameters must have; also the list of overridable keys. */
const SHAPES: { [K in ScenarioName]: { [P in keyof ScenarioParams[K]]: Kind } } = {
  'connection-scaling': {
    steps: 'list',
    holdSeconds: 'number',
    probeUpdates: 'number',
    stopWhenFailedRatioAbove: 'number',
  },
  'fan-out': {
    clients: 'list',
    events: 'number',
    eventsPerSecond: 'number',
    deliveryTimeoutSeconds: 'number',
  },
  churn: {
    concurrentClients: 'number',
    connectionLifetimeSeconds: 'list',
    durationSeconds: 'number',
    eventsPerSecond: 'number',
    settleSeconds: 'number',
  },
  ingest: { rates: 'list', stepSeconds: 'number' },
  'idle-keepalive': { clients: 'number', pingIntervalSeconds: 'number', durationSeconds: 'number' },
};

interface ScenariosFile {
  readonly version: number;
  readonly metrics: Record<string, string>;
  readonly targets: Record<string, { readonly maxNewConnectionsPerSecond?: unknown }>;
  readonly scenarios: Record<string, Record<string, unknown>>;
  readonly traffic: {
    readonly emojiByPopularity: readonly (readonly [string, boolean])[];
    readonly zipfExponent: number;
  };
}

/** Thrown in the init context; k6 then stops before any load with this message. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** An environment value, or undefined when unset or blank. */
export function env(name: string): string | undefined {
  const value = __ENV[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function envFlag(name: string): boolean {
  const value = env(name);
  return value !== undefined && value !== '0' && value.toLowerCase() !== 'false';
}

export function envNumber(
  name: string,
  fallback: number,
  bounds: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const raw = env(name);
  if (raw === undefined) return fallback;
  return checkNumber(name, Number(raw), raw, bounds);
}

function checkNumber(
  name: string,
  value: number,
  shown: string,
  bounds: { min?: number; max?: number; integer?: boolean },
): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, integer = false } = bounds;
  if (
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    const what = integer ? 'an integer' : 'a number';
    throw new ConfigError(`${name} must be ${what} from ${min} to ${max} (got "${shown}")`);
  }
  return value;
}

/** `eventsPerSecond` -> `EVENTS_PER_SECOND`: the environment override of a parameter. */
export function overrideVariable(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

// open() only works in the init context, and does not resolve relative paths the way imports do
// (k6 documents import.meta.resolve for exactly this), so the path is resolved against this module.
// SCENARIOS_FILE points elsewhere when needed.
const scenariosPath =
  env('SCENARIOS_FILE') ?? import.meta.resolve('../../scenarios/scenarios.json');
const scenariosFile = parseScenariosFile(open(scenariosPath), scenariosPath);

function parseScenariosFile(text: string, path: string): ScenariosFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${path} is not valid JSON: ${String(cause)}`);
  }
  const file = json as Partial<ScenariosFile> | null;
  if (
    file === null ||
    typeof file !== 'object' ||
    typeof file.metrics !== 'object' ||
    typeof file.targets !== 'object' ||
    typeof file.scenarios !== 'object' ||
    typeof file.traffic !== 'object'
  ) {
    throw new ConfigError(
      `${path} must have "metrics", "targets", "scenarios" and "traffic" objects`,
    );
  }
  return file as ScenariosFile;
}

/** Popular reactions, most popular first, and their Zipf exponent (scenarios.json `traffic`). */
export const TRAFFIC = scenariosFile.traffic;

/** Metric names and descriptions declared in scenarios.json (the only custom metrics allowed). */
export const DECLARED_METRICS: Readonly<Record<string, string>> = scenariosFile.metrics;

/** QUICK=1: the small version of every scenario (scenarios.json `quick`), as CI runs it. */
export const QUICK = envFlag('QUICK');

/**
 * Parameters of a scenario: scenarios.json, then its `quick` block under QUICK=1, then one
 * environment variable per key (`CLIENTS=100,1000`, `EVENTS_PER_SECOND=5`, ...).
 */
export function loadScenario<K extends ScenarioName>(name: K): ScenarioParams[K] {
  const definition = scenariosFile.scenarios[name];
  if (definition === undefined) throw new ConfigError(`scenarios.json has no scenario "${name}"`);
  const quick = QUICK ? (definition['quick'] as Record<string, unknown> | undefined) : undefined;
  const merged: Record<string, unknown> = { ...definition, ...(quick ?? {}) };
  const shape = SHAPES[name] as Record<string, Kind>;
  const out: Record<string, number | number[]> = {};
  for (const [key, kind] of Object.entries(shape)) {
    const variable = overrideVariable(key);
    const raw = env(variable);
    const where = raw === undefined ? `scenarios.json ${name}.${key}` : variable;
    const value: unknown = raw === undefined ? merged[key] : parseOverride(raw, kind);
    out[key] = checkParam(where, value, kind, raw ?? JSON.stringify(value));
  }
  return out as unknown as ScenarioParams[K];
}

function parseOverride(raw: string, kind: Kind): unknown {
  return kind === 'list' ? raw.split(',').map((s) => Number(s.trim())) : Number(raw);
}

function checkParam(where: string, value: unknown, kind: Kind, shown: string): number | number[] {
  if (kind === 'number') {
    if (typeof value !== 'number')
      throw new ConfigError(`${where} must be a number (got ${shown})`);
    return checkNumber(where, value, shown, {});
  }
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'number')) {
    throw new ConfigError(`${where} must be a non-empty list of numbers (got ${shown})`);
  }
  return (value as number[]).map((v) => checkNumber(where, v, shown, {}));
}

/** Whether scenarios.json marks a scenario as k6-only (not played by the Node runner). */
export function isK6Only(name: ScenarioName): boolean {
  return scenariosFile.scenarios[name]?.['k6Only'] === true;
}

const LOCAL_URLS: Record<Exclude<TargetName, 'aws'>, { http: string; ws: string }> = {
  droplet: { http: 'http://localhost:3000', ws: 'ws://localhost:3000/ws' },
  'serverless-local': { http: 'http://localhost:4000', ws: 'ws://localhost:4001' },
};

function loadTarget(): TargetConfig {
  const raw = env('TARGET') ?? 'droplet';
  const name = TARGET_NAMES.find((t) => t === raw);
  if (name === undefined) {
    throw new ConfigError(`TARGET must be one of ${TARGET_NAMES.join(', ')} (got "${raw}")`);
  }
  const local = name === 'aws' ? undefined : LOCAL_URLS[name];
  const httpUrl = env('HTTP_URL') ?? local?.http;
  const wsUrl = env('WS_URL') ?? local?.ws;
  if (httpUrl === undefined || wsUrl === undefined) {
    throw new ConfigError(
      'TARGET=aws needs HTTP_URL and WS_URL (the HttpApi and websocket endpoints `serverless info` prints)',
    );
  }
  if (!/^https?:\/\//.test(httpUrl))
    throw new ConfigError(`HTTP_URL must start with http(s):// (got "${httpUrl}")`);
  if (!/^wss?:\/\//.test(wsUrl))
    throw new ConfigError(`WS_URL must start with ws(s):// (got "${wsUrl}")`);
  const signingSecret =
    env('SLACK_SIGNING_SECRET') ?? (name === 'aws' ? undefined : DEV_SIGNING_SECRET);
  const declared = scenariosFile.targets[name]?.maxNewConnectionsPerSecond;
  if (typeof declared !== 'number' || declared <= 0) {
    throw new ConfigError(
      `scenarios.json targets.${name}.maxNewConnectionsPerSecond must be a positive number`,
    );
  }
  const maxNewConnectionsPerSecond = envNumber('MAX_NEW_CONNECTIONS_PER_SECOND', declared, {
    min: 1,
  });
  const rampHeadroom = envNumber('RAMP_HEADROOM', 0.8, { min: 0.01, max: 1 });
  return {
    name,
    httpUrl: httpUrl.replace(/\/+$/, ''),
    wsUrl,
    signingSecret,
    maxNewConnectionsPerSecond,
    rampHeadroom,
    connectRatePerSecond: maxNewConnectionsPerSecond * rampHeadroom,
  };
}

export const TARGET: TargetConfig = loadTarget();

/** The secret events are signed with; fails (naming the variable) when it is missing. */
export function requireSigningSecret(): string {
  if (TARGET.signingSecret === undefined) {
    throw new ConfigError(
      'TARGET=aws needs SLACK_SIGNING_SECRET (the deployed stage verifies with it)',
    );
  }
  return TARGET.signingSecret;
}

/** Settings shared by the WebSocket scenarios. */
export const WS_SETTINGS = {
  /** Connections one VU holds at most; more clients mean more VUs (one JS event loop each). */
  connectionsPerVu: envNumber('CONNS_PER_VU', 1000, { min: 1, integer: true }),
  /** A connect not open after this long counts as failed (k6's own handshake limit is 60 s). */
  connectTimeoutMs: envNumber('CONNECT_TIMEOUT_MS', 10_000, { min: 100, integer: true }),
  /**
   * How long a connection must have been open before a probe is expected to reach it. On AWS the
   * fan-out Lambda finds connections with an eventually consistent Scan of the Connections table,
   * which can miss an item written (by $connect) a moment before: 2 s there; 250 ms locally.
   */
  connectGraceMs: envNumber('CONNECT_GRACE_MS', TARGET.name === 'aws' ? 2000 : 250, {
    min: 0,
    integer: true,
  }),
  /**
   * k6 instances running the test together (k6-operator `parallelism`): scenarios give each at
   * least one VU. Pacing does not depend on it: it divides the quota by the total VU count.
   */
  parallelism: envNumber('PARALLELISM', 1, { min: 1, integer: true }),
} as const;

// Every runner of a distributed run runs setup() itself (grafana/k6-operator#223), so a random
// run id would differ per runner and receivers would never recognise another runner's probes.
if (WS_SETTINGS.parallelism > 1 && env('RUN_ID') === undefined) {
  throw new ConfigError(
    'PARALLELISM > 1 needs RUN_ID (the same on every runner: each runs setup() itself)',
  );
}

/**
 * Delivery p99 the thresholds accept, by target (serverless-offline emulates, slowly). Both
 * deployments coalesce updates (at most one per dashboard per 1 s window by default), so a probe
 * that follows another within the window waits for the window's end: the limits leave room for it.
 */
export const DELIVERY_P99_MS = envNumber(
  'DELIVERY_P99_MS',
  TARGET.name === 'serverless-local' ? 3000 : TARGET.name === 'aws' ? 3000 : 2000,
  { min: 1 },
);

/** Acknowledgement p99 the thresholds accept (Slack itself retries after 3 s). */
export const ACK_P99_MS = envNumber(
  'ACK_P99_MS',
  TARGET.name === 'serverless-local' ? 2000 : 1000,
  {
    min: 1,
  },
);

/** Where handleSummary writes its JSON (relative to the directory k6 runs in). */
export function summaryPath(scenario: ScenarioName): string {
  const explicit = env('SUMMARY_FILE');
  if (explicit !== undefined) return explicit;
  const dir = (env('SUMMARY_DIR') ?? 'loadtest/results/k6').replace(/\/+$/, '');
  return `${dir}/${scenario}-${TARGET.name}${QUICK ? '-quick' : ''}.json`;
}

/** Publicly reportable configuration (never the secret). */
export function describeTarget(): Record<string, unknown> {
  return {
    name: TARGET.name,
    httpUrl: TARGET.httpUrl,
    wsUrl: TARGET.wsUrl,
    maxNewConnectionsPerSecond: TARGET.maxNewConnectionsPerSecond,
    rampHeadroom: TARGET.rampHeadroom,
    connectRatePerSecond: TARGET.connectRatePerSecond,
  };
}
