/**
 * `npm run setup`: installs what the machine lacks, idempotently: FerretDB (built from the Go
 * module proxy into .tools/bin), PostgreSQL (Debian's package, FerretDB's backend), ElasticMQ
 * (the SQS emulator: Maven Central into .tools, run on Java 17), nginx and
 * systemd-analyze (Debian's packages, for the droplet's deploy tests), redis-server (Debian's
 * package, for the droplet's scale-out), Chromium (Debian's
 * package, for the dashboard's browser tests), and the droplet's build when a source changed.
 * `npm test`, `npm start` and `.ci/run` call it; running it twice does nothing.
 */
import { createCommand, runCli } from '@reactometer/cli';
import { ensureChromium } from '../chromium.js';
import { ensureDropletBuild } from '../droplet/droplet-build.js';
import { ensureElasticMq } from '../elasticmq.js';
import { ensureFerretDbBinary } from '../ferretdb.js';
import { ensureNginx, ensureSystemdAnalyze } from '../nginx.js';
import { ensurePostgres } from '../postgres.js';
import { ensureRedis } from '../redis.js';

interface Options {
  readonly quiet?: boolean;
  readonly browser: boolean;
}

const program = createCommand(
  'npm run setup',
  'Installs what this machine lacks for the local stack and the tests (idempotent).',
)
  .option('--quiet', 'print only what gets installed')
  .option('--no-browser', 'skip Chromium (e.g. a server that only runs the deployments)');

await runCli<Options>(program, ({ quiet, browser }) => {
  const say = (line: string): void => console.log(`[setup] ${line}`);
  const log = (line: string): void => {
    if (!quiet) say(line);
  };
  log(`FerretDB: ${ensureFerretDbBinary(say)}`);
  log(`PostgreSQL: ${ensurePostgres(say)}`);
  log(`ElasticMQ (SQS emulator): ${ensureElasticMq(say)}`);
  log(`nginx: ${ensureNginx(say)}`);
  log(`systemd-analyze: ${ensureSystemdAnalyze(say)}`);
  log(`Redis: ${ensureRedis(say)}`);
  log(`droplet build: ${ensureDropletBuild()}`);
  if (browser) log(`Chromium: ${ensureChromium(say)}`);
});
