/**
 * The droplet's composition root: configuration, logger, MongoDB store, the edge; and the
 * process lifecycle (graceful shutdown on SIGTERM / SIGINT). `npm run serve -w legacy-server`.
 */
import { pino } from 'pino';
import { systemClock } from '@reactometer/shared';
import { WS_PATH, createDroplet } from './app.js';
import { ConfigError, loadConfig, requireMongoUri, type DropletConfig } from './config.js';
import { createMetricsListener } from './metrics.js';
import { createMongoReactionStore } from './mongo-reaction-store.js';
import { RedisCountBus } from './redis/redis-count-bus.js';
import { RedisEmojiLock } from './redis/redis-emoji-lock.js';

/** A repeated signal this long after the first one forces the exit (see `onSignal`). */
const FORCE_EXIT_AFTER_MS = 1_000;

/** The validated configuration, or exit 2 with one line per invalid variable. */
function configOrExit(): { config: DropletConfig; mongodbUri: string } {
  try {
    const config = loadConfig();
    return { config, mongodbUri: requireMongoUri(config) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Plain text, one variable per line: this is read by a person fixing a deploy.
    process.stderr.write(
      `reactometer droplet: invalid configuration\n  ${err.problems.join('\n  ')}\n`,
    );
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const { config, mongodbUri } = configOrExit();
  const logger = pino({
    level: config.logLevel,
    base: { service: 'reactometer-droplet', pid: process.pid },
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });

  const store = await createMongoReactionStore({
    uri: mongodbUri,
    dbName: config.mongodbDb,
    logger,
    // The inbox does not depend on MongoDB: the droplet starts, stores Slack's events and answers
    // health checks (503) while the database is down, and counts once it answers.
    requireDatabaseAtStart: false,
  });
  // Several processes on one database (REDIS_URL): changes cross processes on Redis, and with
  // STORE_LOCK=redis (FerretDB) an event's writes hold a per-emoji lease.
  const countBus =
    config.redisUrl === undefined
      ? undefined
      : new RedisCountBus({
          url: config.redisUrl,
          channel: `${config.redisKeyPrefix}counts`,
          logger,
        });
  const emojiLock =
    config.storeLock === 'redis' && config.redisUrl !== undefined
      ? new RedisEmojiLock({
          url: config.redisUrl,
          keyPrefix: config.redisKeyPrefix,
          leaseMs: config.storeLockLeaseMs,
          logger,
        })
      : undefined;
  const droplet = createDroplet({
    ...config,
    ...(countBus === undefined ? {} : { countBus }),
    ...(emojiLock === undefined ? {} : { emojiLock }),
    store,
    logger,
    clock: systemClock,
    signingSecret: config.slackSigningSecret,
  });
  // Its own listener, loopback by default: metrics never go out on the public port.
  const metricsListener =
    config.metricsPort === null
      ? null
      : createMetricsListener(droplet.metrics, {
          port: config.metricsPort,
          host: config.metricsHost,
        });

  let shuttingDown: { signal: NodeJS.Signals; at: number } | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shuttingDown !== undefined) {
      // A terminal's Ctrl+C reaches this process and the dev launcher, which forwards it at once:
      // that duplicate is ignored. A deliberate second signal later means "stop waiting".
      if (Date.now() - shuttingDown.at > FORCE_EXIT_AFTER_MS) {
        logger.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      return;
    }
    shuttingDown = { signal, at: Date.now() };
    logger.info(
      { signal, graceMs: config.shutdownGraceMs, openClients: droplet.broadcaster.size },
      'shutting down',
    );
    void (async () => {
      try {
        await droplet.stop();
        await metricsListener?.stop();
        await countBus?.close();
        await emojiLock?.close();
        await store.close();
        logger.info('stopped');
        process.exit(0);
      } catch (err) {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    const address = await droplet.start();
    const metricsAddress = await metricsListener?.start();
    logger.info(
      {
        redis: config.redisUrl === undefined ? 'off' : 'on',
        storeLock: config.storeLock,
        port: address.port,
        host: address.address,
        wsPath: WS_PATH,
        ...(metricsAddress === undefined
          ? {}
          : { metricsPort: metricsAddress.port, metricsHost: metricsAddress.address }),
      },
      'listening',
    );
  } catch (err) {
    logger.fatal(
      { err, port: config.port, host: config.host, metricsPort: config.metricsPort },
      'could not listen',
    );
    await droplet.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  // Reached only before the logger exists, or when the store fails at start for a reason other
  // than an unreachable database (a bad connection string).
  process.stderr.write(
    `reactometer droplet failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
