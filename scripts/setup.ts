/**
 * Installs what the machine lacks, idempotently: FerretDB (built from the Go module proxy into
 * .tools/bin) and Chromium (Debian's package, for the dashboard's browser tests). `npm test`,
 * `npm start` and `.ci/run` call it; running it twice does nothing.
 *
 *   --quiet          print only what it installs
 *   --no-browser     skip Chromium (e.g. a server that only runs the deployments)
 */
import { ensureChromium } from './lib/chromium.js';
import { ensureFerretDbBinary } from './lib/ferretdb.js';

const quiet = process.argv.includes('--quiet');
const say = (line: string) => console.log(`[setup] ${line}`);
const log = (line: string) => {
  if (!quiet) say(line);
};

try {
  log(`FerretDB: ${ensureFerretDbBinary(say)}`);
  if (!process.argv.includes('--no-browser')) log(`Chromium: ${ensureChromium(say)}`);
} catch (err) {
  console.error(`[setup] ${(err as Error).message}`);
  process.exit(1);
}
