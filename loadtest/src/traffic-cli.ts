/**
 * `npm run traffic -w loadtest -- --targets http://localhost:3000,http://localhost:4000 --rate 5`
 * Sends realistic signed Slack reaction events to one or more deployments until Ctrl-C (or
 * --seconds / --events). The signing secret must match the deployments' SLACK_SIGNING_SECRET.
 */
import { parseArgs } from 'node:util';
import { SlackTraffic } from './slack-traffic.js';
import { sendTraffic } from './traffic-sender.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: 'http://localhost:3000' },
    rate: { type: 'string', default: '5' },
    seconds: { type: 'string' },
    events: { type: 'string' },
    seed: { type: 'string' },
    secret: {
      type: 'string',
      default: process.env.SLACK_SIGNING_SECRET ?? 'reactometer-dev-signing-secret',
    },
    quiet: { type: 'boolean', default: false },
  },
});

const rate = Number(values.rate);
if (!Number.isFinite(rate) || rate <= 0) {
  console.error('--rate: must be a positive number of events per second');
  process.exit(2);
}
const targets = (values.targets ?? '').split(',').filter(Boolean);
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31;
const controller = new AbortController();
process.on('SIGINT', () => controller.abort());
process.on('SIGTERM', () => controller.abort());

const traffic = new SlackTraffic({ seed });
console.log(`[traffic] ${rate} events/s to ${targets.join(', ')} (seed ${seed})`);
let last = Date.now();
const stats = await sendTraffic(traffic, {
  targets,
  secret: values.secret as string,
  rate,
  maxEvents: values.events !== undefined ? Number(values.events) : Infinity,
  durationMs: values.seconds !== undefined ? Number(values.seconds) * 1000 : Infinity,
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
