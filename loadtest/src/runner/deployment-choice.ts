/**
 * Which local deployments a compare run starts, and what each plays: the droplet, the serverless
 * emulation and the droplet scaled out ("droplet x K": K droplet processes behind nginx, Redis
 * between them). Pure: the command line and the report both read it.
 */
import type { ScenarioName } from './scenarios.js';

export type DeploymentChoice =
  | { readonly kind: 'droplet' }
  | { readonly kind: 'serverless-local' }
  | { readonly kind: 'droplet-cluster'; readonly processes: number };

export const DEFAULT_DROPLET_PROCESSES = 3;
/** More processes than cores only add contention here; the bound keeps typos from forking 300. */
export const MAX_DROPLET_PROCESSES = 16;

/** Report and file name of droplet x K: `droplet-x3`. */
export const clusterName = (processes: number): string => `droplet-x${processes}`;

const CLUSTER = /^droplet-x(\d+)$/;

/** The deployment names `--deployments` accepts, for help and errors. */
export const DEPLOYMENT_NAMES = ['droplet', 'serverless-local', 'droplet-x<K>'] as const;

/** One `--deployments` item, or a message saying what is wrong with it. */
export function parseDeployment(raw: string): DeploymentChoice | string {
  if (raw === 'droplet' || raw === 'serverless-local') return { kind: raw };
  const m = CLUSTER.exec(raw);
  if (m === null) return `'${raw}' is not one of ${DEPLOYMENT_NAMES.join(', ')}`;
  const processes = Number(m[1]);
  if (processes < 1 || processes > MAX_DROPLET_PROCESSES)
    return `'${raw}': K must be 1-${MAX_DROPLET_PROCESSES}`;
  return { kind: 'droplet-cluster', processes };
}

/**
 * The deployments of a run: all three unless `--deployments` names some; `--droplet-processes`
 * sets K of the default droplet x K and must agree with a `droplet-x<K>` given by name. Throws a
 * RangeError (a usage error) on a conflict.
 */
export function resolveDeployments(
  named: readonly DeploymentChoice[] | undefined,
  processes: number | undefined,
): DeploymentChoice[] {
  const k = processes ?? DEFAULT_DROPLET_PROCESSES;
  if (named === undefined) {
    return [
      { kind: 'droplet' },
      { kind: 'serverless-local' },
      { kind: 'droplet-cluster', processes: k },
    ];
  }
  const out: DeploymentChoice[] = [];
  for (const d of named) {
    if (d.kind === 'droplet-cluster' && processes !== undefined && d.processes !== processes)
      throw new RangeError(
        `--deployments names ${clusterName(d.processes)} but --droplet-processes is ${processes}`,
      );
    if (!out.some((o) => deploymentName(o) === deploymentName(d))) out.push(d);
  }
  return out;
}

export function deploymentName(d: DeploymentChoice): string {
  return d.kind === 'droplet-cluster' ? clusterName(d.processes) : d.kind;
}

/**
 * Scenarios each deployment plays. Droplet x K answers "how many dashboards, how fast": churn and
 * ingest would measure the same single MongoDB and the same per-process code as the droplet.
 */
export function playsScenario(d: DeploymentChoice, scenario: ScenarioName): boolean {
  return (
    d.kind !== 'droplet-cluster' || scenario === 'connection-scaling' || scenario === 'fan-out'
  );
}

/**
 * Where a run's report goes: the full and quick runs have fixed names; a run with its own client
 * counts (`--clients`) gets one named after its deployments and sizes, so that it never
 * overwrites the full report with a partial one.
 */
export function reportName(options: {
  quick: boolean;
  clients: readonly number[] | undefined;
  deployments: readonly DeploymentChoice[];
}): {
  report: string;
  /** Under docs/results/; null: the run's timestamp. */ resultsDir: string | null;
} {
  if (options.clients !== undefined) {
    const tag = `${options.deployments.map(deploymentName).join('-')}-${options.clients.join('-')}${options.quick ? '-quick' : ''}`;
    return { report: `comparison-${tag}.md`, resultsDir: tag };
  }
  return options.quick
    ? { report: 'comparison-quick.md', resultsDir: 'quick' }
    : { report: 'comparison.md', resultsDir: null };
}

/** Client pool settings of one deployment's runs (see client-pool.ts). */
export interface PoolSettings {
  readonly firstAddress: number;
  readonly perWorker?: number;
  readonly perAddress?: number;
  readonly maxWorkers?: number;
}

/** Sockets per client worker for droplet x K: under the 20,000 open files a process may have here. */
export const CLUSTER_SOCKETS_PER_WORKER = 9_000;
const CLUSTER_FIRST_ADDRESS = 100;
const ADDRESSES_PER_CLUSTER_WORKER = 4; // 9,000 sockets at 2,500 per address

/**
 * Each deployment's pool gets its own 127.0.0.x range (droplet 2-13, serverless 40-51 with the
 * default 6 workers x 2 addresses). Droplet x K holds tens of thousands of dashboards: as many
 * workers of 9,000 sockets as its largest step needs, four addresses each, from 127.0.0.100.
 */
export function poolFor(d: DeploymentChoice, largestStep: number): PoolSettings {
  if (d.kind === 'droplet') return { firstAddress: 2 };
  if (d.kind === 'serverless-local') return { firstAddress: 40 };
  const maxWorkers = Math.max(1, Math.ceil(largestStep / CLUSTER_SOCKETS_PER_WORKER));
  const last = CLUSTER_FIRST_ADDRESS + maxWorkers * ADDRESSES_PER_CLUSTER_WORKER - 1;
  if (last > 254)
    throw new RangeError(
      `${largestStep} dashboards need ${maxWorkers} client workers, more than 127.0.0.${CLUSTER_FIRST_ADDRESS}-254 can address`,
    );
  return {
    firstAddress: CLUSTER_FIRST_ADDRESS,
    perWorker: CLUSTER_SOCKETS_PER_WORKER,
    perAddress: CLUSTER_SOCKETS_PER_WORKER / ADDRESSES_PER_CLUSTER_WORKER,
    maxWorkers,
  };
}
