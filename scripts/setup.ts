/**
 * Installs what the machine lacks, idempotently: today FerretDB (built from the Go module proxy
 * into .tools/bin). `npm test`, `npm start` and `.ci/run` call it; running it twice does nothing.
 */
import { ensureFerretDbBinary } from './lib/ferretdb.js';

const quiet = process.argv.includes('--quiet');
const log = (line: string) => {
  if (!quiet) console.log(`[setup] ${line}`);
};

try {
  if (process.env.MONGODB_URI) {
    log('MONGODB_URI is set: the droplet uses that server; FerretDB is still built for the tests.');
  }
  const bin = ensureFerretDbBinary((line) => console.log(`[setup] ${line}`));
  log(`FerretDB: ${bin}`);
} catch (err) {
  console.error(`[setup] ${(err as Error).message}`);
  process.exit(1);
}
