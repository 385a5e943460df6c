/**
 * `npm run compare [-- --quick] [--only fan-out,churn] [--deployments droplet,droplet-x3]
 * [--droplet-processes K] [--clients 50000] [--out DIR]`: the comparison report. The command line
 * is checked here before anything heavy loads (compare-run.ts does the work).
 */
import {
  choiceListOption,
  CliError,
  createCommand,
  EXIT,
  InvalidArgumentError,
  listOption,
  numberOption,
  runCli,
} from '@reactometer/cli';
import {
  DEFAULT_DROPLET_PROCESSES,
  DEPLOYMENT_NAMES,
  MAX_DROPLET_PROCESSES,
  parseDeployment,
  poolFor,
  resolveDeployments,
  type DeploymentChoice,
} from './runner/deployment-choice.js';
import { SCENARIO_NAMES, type ScenarioName } from './runner/scenarios.js';

interface CliOptions {
  readonly quick?: boolean;
  readonly only?: ScenarioName[];
  readonly out?: string;
  readonly deployments?: DeploymentChoice[];
  readonly dropletProcesses?: number;
  readonly clients?: number[];
}

const program = createCommand(
  'npm run compare',
  'Starts the local deployments (the droplet, the serverless emulation, droplet x K), plays the scenarios of scenarios/scenarios.json against them in one run, and writes the comparison report and charts.',
)
  .option('--quick', 'the quick form of every scenario (docs/comparison-quick.md)')
  .option(
    '--only <scenarios>',
    `comma-separated subset of ${SCENARIO_NAMES.join(', ')}`,
    choiceListOption(SCENARIO_NAMES),
  )
  .option(
    '--deployments <list>',
    `comma-separated subset of ${DEPLOYMENT_NAMES.join(', ')} (default: all three; droplet x K plays connection-scaling and fan-out only)`,
    listOption((raw) => {
      const d = parseDeployment(raw);
      if (typeof d === 'string') throw new InvalidArgumentError(d);
      return d;
    }),
  )
  .option(
    '--droplet-processes <k>',
    `K of droplet x K (default ${DEFAULT_DROPLET_PROCESSES})`,
    numberOption({ integer: true, min: 1, max: MAX_DROPLET_PROCESSES }),
  )
  .option(
    '--clients <list>',
    "comma-separated client counts for the fan-out steps and the connection-scaling steps instead of scenarios.json's; the report is then docs/comparison-<deployments>-<counts>.md",
    listOption(numberOption({ integer: true, min: 1 })),
  )
  .option('--out <dir>', 'write the report here instead of docs/');

await runCli<CliOptions>(program, async (options) => {
  let deployments: DeploymentChoice[];
  try {
    deployments = resolveDeployments(options.deployments, options.dropletProcesses);
    for (const d of deployments) poolFor(d, Math.max(0, ...(options.clients ?? [])));
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }
  const { runComparison } = await import('./compare-run.js');
  await runComparison({
    ...(options.quick === undefined ? {} : { quick: options.quick }),
    ...(options.only === undefined ? {} : { only: options.only }),
    ...(options.out === undefined ? {} : { out: options.out }),
    ...(options.clients === undefined ? {} : { clients: options.clients }),
    deployments,
    command: `npm run compare${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  });
  return process.exitCode === undefined ? 0 : Number(process.exitCode);
});
