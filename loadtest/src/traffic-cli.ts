/**
 * `npm run traffic -- --targets http://localhost:3000,http://localhost:4000 --rate 5`
 * Sends realistic signed Slack reaction events to one or more deployments until Ctrl-C (or
 * --seconds / --events). The signing secret must match the deployments' SLACK_SIGNING_SECRET.
 */
import { createCommand, listOption, numberOption, runCli } from '@reactometer/cli';
import { localSigningSecret } from '@reactometer/devkit';
import { SlackTraffic } from './slack-traffic.js';
import { sendTraffic } from './traffic-sender.js';

interface Options {
  readonly targets: string[];
  readonly rate: number;
  readonly seconds?: number;
  readonly events?: number;
  readonly seed?: number;
  readonly secret: string;
  readonly quiet?: boolean;
}

function httpUrl(raw: string): string {
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  return raw.replace(/\/+$/, '');
}

const program = createCommand(
  'npm run traffic',
  'Sends realistic signed Slack reaction events to one or more deployments until Ctrl-C (or --seconds / --events).',
)
  .option(
    '--targets <urls>',
    'comma-separated base URLs of the deployments',
    listOption((raw) => {
      try {
        return httpUrl(raw);
      } catch {
        throw new Error(`'${raw}' is not an http(s) URL`);
      }
    }),
    ['http://localhost:3000'],
  )
  .option('--rate <n>', 'events per second', numberOption({ above: 0 }), 5)
  .option('--seconds <n>', 'stop after this many seconds', numberOption({ above: 0 }))
  .option('--events <n>', 'stop after this many events', numberOption({ integer: true, min: 1 }))
  .option(
    '--seed <n>',
    'random seed (default: from the clock)',
    numberOption({ integer: true, min: 0 }),
  )
  .option(
    '--secret <secret>',
    'Slack signing secret (default: SLACK_SIGNING_SECRET, else the dev secret)',
    localSigningSecret().secret,
  )
  .option('--quiet', 'print only the start and the end');

await runCli<Options>(program, async (values) => {
  const seed = values.seed ?? Date.now() % 2 ** 31;
  const controller = new AbortController();
  process.on('SIGINT', () => controller.abort());
  process.on('SIGTERM', () => controller.abort());

  const traffic = new SlackTraffic({ seed });
  console.log(`[traffic] ${values.rate} events/s to ${values.targets.join(', ')} (seed ${seed})`);
  let last = Date.now();
  const stats = await sendTraffic(traffic, {
    targets: values.targets,
    secret: values.secret,
    rate: values.rate,
    maxEvents: values.events ?? Infinity,
    durationMs: values.seconds !== undefined ? values.seconds * 1000 : Infinity,
    signal: controller.signal,
    onDelivered: (_event, s) => {
      if (values.quiet || Date.now() - last < 10_000) return;
      last = Date.now();
      console.log(
        `[traffic] ${s.map((t) => `${t.url}: ${t.ok}/${t.sent} ok${Object.keys(t.failures).length ? ` failures ${JSON.stringify(t.failures)}` : ''}`).join('; ')}`,
      );
    },
  });
  console.log(`[traffic] done: ${JSON.stringify(stats)}`);
});
