/**
 * Loads `loadtest/scenarios/scenarios.json` (the scenarios as data, shared with the k6 scripts),
 * validates it with zod and applies the `quick` overrides when asked.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const SCENARIOS_FILE = fileURLToPath(
  new URL('../../scenarios/scenarios.json', import.meta.url),
);

const positiveInt = z.number().int().positive();
const positive = z.number().positive();

const connectionScaling = z.object({
  description: z.string(),
  steps: z.array(positiveInt).min(1),
  holdSeconds: z.number().nonnegative(),
  probeUpdates: positiveInt,
  stopWhenFailedRatioAbove: z.number().min(0).max(1),
});
const fanOut = z.object({
  description: z.string(),
  clients: z.array(positiveInt).min(1),
  events: positiveInt,
  eventsPerSecond: positive,
  deliveryTimeoutSeconds: positive,
});
const churn = z.object({
  description: z.string(),
  concurrentClients: positiveInt,
  connectionLifetimeSeconds: z.tuple([positive, positive]),
  durationSeconds: positive,
  eventsPerSecond: positive,
  settleSeconds: z.number().nonnegative(),
});
const ingest = z.object({
  description: z.string(),
  rates: z.array(positive).min(1),
  stepSeconds: positive,
});

export const METRIC_NAMES = [
  'ws_connect_ms',
  'ws_connect_failed',
  'ws_connections_open',
  'delivery_ms',
  'deliveries_missed',
  'deliveries_duplicate',
  'ack_ms',
  'ack_failed',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

const targetLimits = z.object({ maxNewConnectionsPerSecond: positiveInt });

export const scenariosFileSchema = z.object({
  version: z.literal(1),
  metrics: z.record(z.enum(METRIC_NAMES), z.string()),
  targets: z.object({
    droplet: targetLimits,
    'serverless-local': targetLimits,
    'droplet-cluster': targetLimits,
    aws: targetLimits,
  }),
  scenarios: z.object({
    'connection-scaling': connectionScaling.extend({
      quick: connectionScaling.partial().optional(),
    }),
    'fan-out': fanOut.extend({ quick: fanOut.partial().optional() }),
    churn: churn.extend({ quick: churn.partial().optional() }),
    ingest: ingest.extend({ quick: ingest.partial().optional() }),
  }),
});

export type ConnectionScalingParams = z.infer<typeof connectionScaling>;
export type FanOutParams = z.infer<typeof fanOut>;
export type ChurnParams = z.infer<typeof churn>;
export type IngestParams = z.infer<typeof ingest>;

export const SCENARIO_NAMES = ['connection-scaling', 'fan-out', 'churn', 'ingest'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface Scenarios {
  readonly 'connection-scaling': ConnectionScalingParams;
  readonly 'fan-out': FanOutParams;
  readonly churn: ChurnParams;
  readonly ingest: IngestParams;
  readonly targets: z.infer<typeof scenariosFileSchema>['targets'];
}

function pick<T extends object>(
  s: T & { quick?: { [K in keyof T]?: T[K] | undefined } | undefined },
  quick: boolean,
): T {
  const { quick: overrides, ...rest } = s;
  return (quick && overrides ? { ...rest, ...overrides } : rest) as T;
}

/** Parses and validates the scenarios file; `quick` applies each scenario's overrides. */
export function loadScenarios(options: { quick: boolean; file?: string }): Scenarios {
  const raw: unknown = JSON.parse(readFileSync(options.file ?? SCENARIOS_FILE, 'utf8'));
  const parsed = scenariosFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `invalid scenarios file ${options.file ?? SCENARIOS_FILE}:\n${z.prettifyError(parsed.error)}`,
    );
  }
  const s = parsed.data.scenarios;
  return {
    'connection-scaling': pick<ConnectionScalingParams>(s['connection-scaling'], options.quick),
    'fan-out': pick<FanOutParams>(s['fan-out'], options.quick),
    churn: pick<ChurnParams>(s.churn, options.quick),
    ingest: pick<IngestParams>(s.ingest, options.quick),
    targets: parsed.data.targets,
  };
}
