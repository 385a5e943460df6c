/**
 * `npm run compare [-- --quick] [--only fan-out,churn] [--out DIR]`: the comparison report. The
 * command line is checked here before anything heavy loads (compare-run.ts does the work).
 */
import { choiceListOption, createCommand, runCli } from '@reactometer/cli';
import { SCENARIO_NAMES } from './runner/scenarios.js';
import type { CompareOptions } from './compare-run.js';

const program = createCommand(
  'npm run compare',
  'Starts both local deployments, plays the scenarios of scenarios/scenarios.json against both in one run, and writes the comparison report and charts.',
)
  .option('--quick', 'the quick form of every scenario (docs/comparison-quick.md)')
  .option(
    '--only <scenarios>',
    `comma-separated subset of ${SCENARIO_NAMES.join(', ')}`,
    choiceListOption(SCENARIO_NAMES),
  )
  .option('--out <dir>', 'write the report here instead of docs/');

await runCli<CompareOptions>(program, async (options) => {
  const { runComparison } = await import('./compare-run.js');
  await runComparison(options);
  return process.exitCode === undefined ? 0 : Number(process.exitCode);
});
