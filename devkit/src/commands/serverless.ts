/**
 * `npm run serverless`: the serverless deployment on this machine, with nothing to set up:
 * dynalite with the deployed table definitions, serverless-offline (HTTP API on 4000, WebSocket on
 * 4001, Lambda on 4003) and serverless-offline-sns (4002). Every port moves with an environment
 * variable (`LOCAL_STACK_KEYS` in offline/offline-config.ts). Ctrl+C stops all.
 */
import path from 'node:path';
import { createCommand, readConfig, runCli } from '@reactometer/cli';
import { DEV_SIGNING_SECRET, devSecretWarning } from '../dev-secret.js';
import { DATA_DIR } from '../paths.js';
import { describeLocalStackConfig, loadLocalStackConfig } from '../offline/offline-config.js';
import type { OfflineStack } from '../offline/offline-stack.js';

// Lambda runs Node 22; the SDK's "upgrade from Node 20" notice is noise on a dev machine.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const say = (line: string): void => {
  process.stderr.write(`[serverless] ${line}\n`);
};

async function run(): Promise<number> {
  // Loaded here, not at the top: `--help` and a bad option answer without the AWS SDK.
  const { PortInUseError, startOfflineStack } = await import('../offline/offline-stack.js');
  const config = readConfig(() =>
    loadLocalStackConfig(process.env, path.join(DATA_DIR, 'dynalite-serverless')),
  );
  const signingSecret = config.signingSecret ?? DEV_SIGNING_SECRET;
  if (config.signingSecret === undefined) devSecretWarning().forEach(say);

  let stack: OfflineStack | undefined;
  let interrupted = false;
  let onInterrupt = (): void => undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    // Ctrl+C reaches this process twice (from the terminal and forwarded by tsx): act once.
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping`);
    onInterrupt();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  say(
    `starting dynalite on ${config.host}:${config.ports.dynalite} (${config.dynaliteDataDir ?? 'in memory'}) ` +
      `and serverless offline (stage ${config.stage})...`,
  );
  try {
    stack = await startOfflineStack({
      signingSecret,
      ports: config.ports,
      host: config.host,
      stage: config.stage,
      ...(config.dynaliteDataDir === undefined ? {} : { dynaliteDataDir: config.dynaliteDataDir }),
      logLevel: config.logLevel,
      inProcess: config.inProcess,
      onOutput: (line) => process.stdout.write(`${line}\n`),
      onRestart: ({ code, signal, restarts }) =>
        say(
          `serverless offline died (${code ?? signal}), as one malformed WebSocket frame makes it do; restarted (${restarts}) - dynalite and its data kept`,
        ),
    });
  } catch (err) {
    // Ctrl+C during startup also reaches serverless (same process group), which then exits early.
    if (interrupted) return 130;
    if (err instanceof PortInUseError) {
      for (const line of err.message.split('\n')) say(line);
      return 1;
    }
    say(`could not start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  if (interrupted) {
    await stack.stop();
    return 130;
  }

  say('ready:');
  say(`  HTTP API     ${stack.httpUrl}   (POST /slack/events, GET /reactions, GET /healthz)`);
  say(`  WebSocket    ${stack.wsUrl}`);
  say(`  @connections ${stack.managementUrl}/@connections/{id}`);
  say(`  SNS          ${stack.snsUrl}   (topic ${stack.topicArn})`);
  say(`  Lambda       http://${config.host}:${stack.ports.lambda}`);
  say(`  SQS          ${stack.sqsEndpoint}   (inbox ${stack.inbox.queueUrl}, fed to the counter)`);
  say(
    `  DynamoDB     ${stack.dynamodbEndpoint}   (tables ${Object.values(stack.tables).join(', ')})`,
  );
  say('Ctrl+C stops everything.');

  // Runs until a signal arrives or serverless exits on its own (a crash: say so and clean up).
  const interruptedOrExited = await Promise.race([
    new Promise<'interrupted'>((resolve) => {
      onInterrupt = () => resolve('interrupted');
    }),
    stack.exited,
  ]);
  await stack.stop();
  if (interruptedOrExited !== 'interrupted') {
    say(
      `serverless offline exited on its own (${interruptedOrExited.code ?? interruptedOrExited.signal}); dynalite stopped`,
    );
    return 1;
  }
  say('stopped');
  return 0;
}

const program = createCommand(
  'npm run serverless',
  'Runs the serverless deployment locally: dynalite, serverless-offline (HTTP API, WebSocket, Lambda) and local SNS.',
).addHelpText('after', `\nEnvironment (all optional):\n${describeLocalStackConfig()}`);

await runCli(program, run);
