/**
 * The comparison report's "serverless on AWS (modelled)" figures: the AWS model at the report's
 * sizes, the largest N under the throttle at Slack's event cap, the monthly bill at the cost
 * model's reference traffic, the model's check against the @connections stand-in, and the
 * assumption list. compare-run.ts computes it; report.ts renders it.
 */
import { readFileSync } from 'node:fs';
import {
  DEFAULT_ASSUMPTIONS,
  clusterCost,
  dropletCost,
  pricesFromFile,
  serverlessCost,
  type PricesFile,
} from '../cost/cost-model.js';
import { PRICES_PATH } from '../cost/cost-cli.js';
import { largestUnderThrottle, modelAws, type ModelResult } from './aws-model.js';
import { describeParameters, loadAwsModelFile } from './aws-model-file.js';
import { DEFAULT_CLIENTS, modelContext } from './model-report.js';

/** How a figure was obtained; the report labels every one. */
export type FigureKind = 'measured-here' | 'emulated' | 'stand-in' | 'modelled-for-AWS';

export interface StandinCheckRow {
  readonly connections: number;
  readonly measuredMs: number;
  readonly modelledMs: number;
  readonly error: number;
}

export interface ModelledAws {
  readonly eventsPerSecond: number;
  /** One row per size: the report's fan-out sizes and the model's default ones. */
  readonly rows: readonly ModelResult[];
  readonly largestUnderThrottle: number | null;
  readonly cost: {
    readonly clients: number;
    readonly eventsPerDay: number;
    readonly hoursConnectedPerDay: number;
    readonly awsCoalesced: number;
    readonly awsUncoalesced: number;
    readonly droplet: number;
    readonly dropletSize: string | null;
    /** Droplet x K at the reference traffic (K of the run), when the run had one. */
    readonly cluster: {
      readonly droplets: number;
      readonly monthly: number;
      readonly parts: string;
    } | null;
  };
  /** The model against the stand-in (`npm run bench -w serverless` prints more); null: not run. */
  readonly standinCheck: readonly StandinCheckRow[] | null;
  readonly standinCheckError: string | null;
  readonly assumptions: readonly {
    readonly name: string;
    readonly value: string;
    readonly status: string;
    readonly unit: string;
  }[];
}

/** The cost model's reference traffic (docs/cost-model.md, issue 9). */
export const REFERENCE_TRAFFIC = {
  clients: 1_000,
  eventsPerDay: 20_000,
  hoursConnectedPerDay: 8,
} as const;

export function modelForReport(
  fanOutSizes: readonly number[],
  standinCheck: readonly StandinCheckRow[] | null,
  standinCheckError: string | null = null,
  clusterDroplets?: number,
): ModelledAws {
  const ctx = modelContext();
  const rate = ctx.parameters.slackEventCap;
  const sizes = [...new Set([...fanOutSizes, ...DEFAULT_CLIENTS])].sort((a, b) => a - b);
  const rows = sizes.map((clients) => modelAws({ clients, eventsPerSecond: rate }, ctx));
  const prices = pricesFromFile(JSON.parse(readFileSync(PRICES_PATH, 'utf8')) as PricesFile);
  const coalesced = serverlessCost(REFERENCE_TRAFFIC, prices);
  const uncoalesced = serverlessCost(REFERENCE_TRAFFIC, prices, {
    ...DEFAULT_ASSUMPTIONS,
    coalesceWindowMs: 0,
  });
  const droplet = dropletCost(REFERENCE_TRAFFIC, prices);
  const cluster =
    clusterDroplets === undefined
      ? null
      : clusterCost(REFERENCE_TRAFFIC, prices, DEFAULT_ASSUMPTIONS, {
          droplets: clusterDroplets,
          balancer: 'do-lb',
        });
  const file = loadAwsModelFile();
  return {
    eventsPerSecond: rate,
    rows,
    largestUnderThrottle: largestUnderThrottle(rate, ctx),
    cost: {
      ...REFERENCE_TRAFFIC,
      awsCoalesced: coalesced.monthly,
      awsUncoalesced: uncoalesced.monthly,
      droplet: droplet.monthly,
      dropletSize: droplet.size?.slug ?? null,
      cluster:
        cluster === null
          ? null
          : {
              droplets: cluster.droplets,
              monthly: cluster.monthly,
              parts: cluster.lines.map((l) => l.item).join(' + '),
            },
    },
    standinCheck,
    standinCheckError,
    assumptions: describeParameters(file),
  };
}
