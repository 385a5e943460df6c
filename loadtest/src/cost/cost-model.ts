/**
 * Monthly cost of each deployment for a given traffic, from first principles (docs/cost-model.md
 * has the formulas and where every default comes from). Pure functions: the prices and every
 * assumption come in as arguments; nothing here reads files or the clock.
 */
import { DEFAULT_CONNECTIONS_PAGE_SIZE, FANOUT_DEFAULTS } from '@reactometer/serverless/config';
import { maxConnectionsFromLimit, workersFor } from '@reactometer/shared';

/** A price that may change above a monthly volume (`upTo` null: no upper bound). */
export interface PriceTier {
  readonly upTo: number | null;
  /** USD per `per` units. */
  readonly value: number;
}

export interface DropletSize {
  readonly slug: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly monthly: number;
}

/** The figures the model needs, in USD; see `pricesFromFile`. */
export interface Prices {
  readonly wsMessagesPerMillion: number;
  readonly wsConnectionMinutesPerMillion: number;
  readonly httpRequestsPerMillion: readonly PriceTier[];
  readonly lambdaRequestsPerMillion: number;
  readonly lambdaGbSecond: number;
  readonly dynamoWruPerMillion: number;
  readonly dynamoRruPerMillion: number;
  readonly snsPublishesPerMillion: number;
  readonly snsLambdaDeliveriesPerMillion: number;
  readonly logsIngestionPerGb: number;
  readonly droplets: readonly DropletSize[];
  /** DigitalOcean Load Balancer: USD per node per month. */
  readonly loadBalancerNodeMonthly: number;
  /** Simultaneous connections one load-balancer node holds. */
  readonly loadBalancerConnectionsPerNode: number;
}

/** Monthly allowances subtracted before pricing (all zero when the free tier is off). */
export interface FreeTier {
  readonly wsMessages: number;
  readonly wsConnectionMinutes: number;
  readonly httpRequests: number;
  readonly lambdaRequests: number;
  readonly lambdaGbSeconds: number;
  readonly snsPublishes: number;
}

export const NO_FREE_TIER: FreeTier = {
  wsMessages: 0,
  wsConnectionMinutes: 0,
  httpRequests: 0,
  lambdaRequests: 0,
  lambdaGbSeconds: 0,
  snsPublishes: 0,
};

export interface Traffic {
  /** Dashboards (browser tabs) in use. */
  readonly clients: number;
  /** Slack reaction_added / reaction_removed events delivered per day. */
  readonly eventsPerDay: number;
  /** Hours per day each dashboard is connected. */
  readonly hoursConnectedPerDay: number;
}

/** Everything the model assumes about the system; `DEFAULT_ASSUMPTIONS` says where each comes from. */
export interface Assumptions {
  /** Days per month: 730 h / 24 (AWS's monthly convention). */
  readonly daysPerMonth: number;
  /** Share of events that flip a reaction and so change a count (duplicates and retries do not). */
  readonly countChangeShare: number;
  /** Share of clients connected when an event happens (events and dashboards share the working day). */
  readonly recipientShare: number;
  /** Minutes between keep-alive pings (the dashboard's; API Gateway drops a socket idle for 10). */
  readonly pingIntervalMinutes: number;
  /** API Gateway closes a WebSocket after 2 hours; the dashboard reconnects. */
  readonly maxConnectionHours: number;
  /**
   * Coalescing window of the fan-out (FANOUT_WINDOW_MS): quiet time after a fan-out ends before
   * the next may start; 0: every count change is fanned out on its own.
   */
  readonly coalesceWindowMs: number;
  /** Billed duration of a fan-out invocation that only marks the gate and finds it held. */
  readonly gateMarkMs: number;
  /**
   * A hidden dashboard tab closes its socket after this many minutes (web's hidden-tab timeout);
   * null: hidden tabs stay connected.
   */
  readonly hiddenTabTimeoutMinutes: number | null;
  /** Share of the hours a dashboard is open during which its tab is hidden. */
  readonly hiddenShare: number;
  /** Mean length of one hidden stretch, minutes. */
  readonly hiddenStretchMinutes: number;
  /** Bytes of one `update` frame (one emoji, absolute count and version). */
  readonly updateBytes: number;
  /** Bytes of one `snapshot` frame (the whole leaderboard). */
  readonly snapshotBytes: number;
  /** Memory of the HTTP and WebSocket functions (serverless.yml provider.memorySize). */
  readonly lambdaMemoryMb: number;
  /** Memory of the fan-out function (serverless.yml functions.fanout.memorySize). */
  readonly fanoutMemoryMb: number;
  /** Billed duration of one Slack event invocation (5 sequential DynamoDB/SNS calls). */
  readonly slackEventMs: number;
  /** Billed duration of one WebSocket route invocation ($connect, ping, getReactions, $disconnect). */
  readonly wsRouteMs: number;
  /** Fan-out invocation overhead (parse, first Scan page) in ms. */
  readonly fanoutBaseMs: number;
  /** Fan-out time per 100 connections (one Scan page + 100 PostToConnection at concurrency 64). */
  readonly fanoutMsPer100: number;
  /** Connection items per fan-out Scan page (CONNECTIONS_PAGE_SIZE's default). */
  readonly connectionPageSize: number;
  /** Bytes of one connection item (connectionId, connectedAt, expiresAt with names). */
  readonly connectionItemBytes: number;
  /** Bytes of one reaction-state item, for read and write units. */
  readonly stateItemBytes: number;
  /** Distinct emoji with a count (the counts table Scan of each snapshot). */
  readonly emojiCount: number;
  /** Bytes of one count item. */
  readonly countItemBytes: number;
  /** Stored reaction states (reconcile scans them every hour). */
  readonly storedStates: number;
  /** Reconcile runs per month (serverless.yml: rate(1 hour)). */
  readonly reconcileRunsPerMonth: number;
  /** Billed duration of one reconcile run. */
  readonly reconcileMs: number;
  /** Log bytes per invocation that Lambda itself writes (START, END, REPORT). */
  readonly platformLogBytes: number;
  /** Structured log + EMF metric bytes per Slack event invocation. */
  readonly slackEventLogBytes: number;
  /** Structured log + EMF metric bytes per fan-out invocation. */
  readonly fanoutLogBytes: number;
  /** Structured log + EMF metric bytes per WebSocket route invocation (connect/disconnect metrics). */
  readonly wsLogBytes: number;
  /** Include CloudWatch Logs ingestion. */
  readonly includeLogs: boolean;
  // Droplet sizing
  /** Open-file limit of the droplet process (LimitNOFILE); here a hard 20,000. */
  readonly dropletFdLimit: number;
  /** Memory of the OS, the Node process at rest and its buffers, in MB. */
  readonly dropletBaseMemoryMb: number;
  /** Memory MongoDB needs on the same droplet (0 with a managed database). */
  readonly dropletMongoMemoryMb: number;
  /** Memory per open WebSocket, in KB. */
  readonly dropletKbPerConnection: number;
  /** Share of a droplet's memory the model lets the app use (headroom for spikes, page cache). */
  readonly dropletMemoryHeadroom: number;
  /** CPU microseconds per delivered update (one write of a pre-serialised frame). */
  readonly dropletCpuUsPerDelivery: number;
  /** Peak events per second over the average during connected hours. */
  readonly peakFactor: number;
  /** Share of the vCPUs the fan-out may use at peak. */
  readonly dropletCpuHeadroom: number;
  /** Monthly price of a managed MongoDB (null: MongoDB runs on the droplet). */
  readonly managedMongoMonthly: number | null;
  // droplet x K
  /** Memory Redis needs on its own droplet (pub/sub of count changes only; no data kept). */
  readonly redisMemoryMb: number;
  /** Monthly price of a managed Redis (null: Redis runs on a droplet of its own). */
  readonly managedRedisMonthly: number | null;
  /** nginx memory per proxied WebSocket (two sockets and their buffers), in KB. */
  readonly nginxKbPerConnection: number;
  /** nginx CPU microseconds per relayed update frame. */
  readonly nginxCpuUsPerDelivery: number;
}

/**
 * The defaults. docs/comparison.md did not exist when they were set, so every duration and
 * droplet-memory figure is an assumption (marked "assumed"); `npm run cost -- --...` overrides
 * each, and docs/cost-model.md tells which measured figure should replace which.
 */
export const DEFAULT_ASSUMPTIONS: Assumptions = {
  daysPerMonth: 730 / 24,
  countChangeShare: 1,
  recipientShare: 1,
  pingIntervalMinutes: 5,
  maxConnectionHours: 2,
  coalesceWindowMs: FANOUT_DEFAULTS.windowMs,
  gateMarkMs: 15,
  hiddenTabTimeoutMinutes: null,
  hiddenShare: 0.5,
  hiddenStretchMinutes: 60,
  updateBytes: 90,
  snapshotBytes: 4_096,
  lambdaMemoryMb: 512,
  fanoutMemoryMb: 1_024,
  slackEventMs: 40,
  wsRouteMs: 15,
  fanoutBaseMs: 20,
  fanoutMsPer100: 60,
  connectionPageSize: DEFAULT_CONNECTIONS_PAGE_SIZE,
  connectionItemBytes: 60,
  stateItemBytes: 250,
  emojiCount: 200,
  countItemBytes: 40,
  storedStates: 50_000,
  reconcileRunsPerMonth: 730,
  reconcileMs: 3_000,
  platformLogBytes: 350,
  slackEventLogBytes: 900,
  fanoutLogBytes: 1_200,
  wsLogBytes: 150,
  includeLogs: true,
  dropletFdLimit: 20_000,
  dropletBaseMemoryMb: 350,
  dropletMongoMemoryMb: 512,
  dropletKbPerConnection: 50,
  dropletMemoryHeadroom: 0.8,
  dropletCpuUsPerDelivery: 25,
  peakFactor: 10,
  dropletCpuHeadroom: 0.7,
  managedMongoMonthly: null,
  redisMemoryMb: 64,
  managedRedisMonthly: null,
  nginxKbPerConnection: 20,
  nginxCpuUsPerDelivery: 10,
};

/** Where each default comes from (printed by `--explain`, tabled in docs/cost-model.md). */
export const ASSUMPTION_SOURCES: Readonly<Record<keyof Assumptions, string>> = {
  daysPerMonth: 'AWS convention: 730 hours per month',
  countChangeShare: 'assumed: every delivered event flips a reaction (Slack retries are rare)',
  recipientShare: 'assumed: dashboards are open while people react (same working day)',
  pingIntervalMinutes:
    'web dashboard keep-alive (docs/api.md: API Gateway drops idle sockets after 10 min)',
  maxConnectionHours: 'API Gateway WebSocket quota: connection duration 2 hours (docs/limits.md)',
  coalesceWindowMs:
    'serverless/src/config.ts FANOUT_DEFAULTS.windowMs (FANOUT_WINDOW_MS); 0 prices the fan-out without coalescing',
  gateMarkMs:
    'assumed: two conditional DynamoDB writes (mark dirty, try the lease) ~5 ms each, plus the invocation',
  hiddenTabTimeoutMinutes:
    'web dashboard: hidden tabs stay connected today (null); issue 9 item 7 closes them after a configurable time, pass --hidden-tab-timeout-minutes',
  hiddenShare: 'assumed: a dashboard tab is hidden half of the time it is open',
  hiddenStretchMinutes: 'assumed: a tab stays hidden an hour at a time',
  updateBytes:
    'computed from the protocol: {"type":"update","reactions":[{"emoji":"+1","count":12,"version":40}]} is ~75 bytes',
  snapshotBytes: 'assumed: ~200 emoji x ~45 bytes (fits in one 32 KB metering unit either way)',
  lambdaMemoryMb: 'serverless/serverless.yml provider.memorySize',
  fanoutMemoryMb: 'serverless/serverless.yml functions.fanout.memorySize',
  slackEventMs:
    'assumed: getState + putState + adjustCount + putState + SNS Publish, ~5-8 ms each in-region',
  wsRouteMs: 'assumed: one DynamoDB write (touch) + one PostToConnection',
  fanoutBaseMs: 'assumed',
  fanoutMsPer100: 'assumed: 100 PostToConnection at concurrency 64 (~25 ms each) + one Scan page',
  connectionPageSize:
    'serverless/src/config.ts DEFAULT_CONNECTIONS_PAGE_SIZE (CONNECTIONS_PAGE_SIZE)',
  connectionItemBytes: 'computed: attribute names + a 16-char id + two numbers',
  stateItemBytes: 'computed: key (~80 chars) + ref map + baseEmoji + eventTs + rev + pending',
  emojiCount: 'assumed',
  countItemBytes: 'computed: emoji + count + version with names',
  storedStates: 'assumed: reactions kept forever, ~50k after a year of a 200-person Slack',
  reconcileRunsPerMonth: 'serverless/serverless.yml functions.reconcile schedule rate(1 hour)',
  reconcileMs: 'assumed',
  platformLogBytes: 'assumed: Lambda START/END/REPORT lines',
  slackEventLogBytes:
    'assumed: one Powertools JSON line + one EMF metrics line (serverless/src/handlers/slack-events.ts)',
  fanoutLogBytes:
    'assumed: one Powertools JSON line + one EMF line with six metrics (handlers/fanout.ts)',
  wsLogBytes: 'assumed: EMF line on connect/disconnect only, averaged over all ws invocations',
  includeLogs: 'CloudWatch Logs ingestion is included (it often dominates small serverless bills)',
  dropletFdLimit:
    'this machine: a hard limit of 20,000 open files (issue 5); on a droplet, LimitNOFILE',
  dropletBaseMemoryMb:
    'assumed (replace with docs/comparison.md: droplet RSS at 0 connections + OS)',
  dropletMongoMemoryMb: 'assumed: a small mongod with WiredTiger cache capped',
  dropletKbPerConnection: 'assumed (replace with docs/comparison.md: memory per idle connection)',
  dropletMemoryHeadroom: 'assumed',
  dropletCpuUsPerDelivery: 'assumed (replace with docs/comparison.md: CPU per delivered message)',
  peakFactor: 'assumed: bursts of reactions to one message',
  dropletCpuHeadroom: 'assumed',
  managedMongoMonthly: 'not found in stored copies: pass --managed-mongodb-monthly',
  redisMemoryMb:
    'assumed: Redis only relays each count change to K subscribers (docs/limits.md), a few MB in use',
  managedRedisMonthly: 'not found in stored copies: pass --managed-redis-monthly',
  nginxKbPerConnection:
    'assumed: two sockets and their proxy buffers per WebSocket (replace with nginx RSS per connection measured by compare, droplet-x3)',
  nginxCpuUsPerDelivery: 'assumed: one read and one write of a small frame, no parsing',
};

const MILLION = 1_000_000;
const KB = 1_024;
const METERING_BYTES = 32 * KB;

/** API Gateway meters WebSocket messages in 32 KB increments. */
export function meteredMessages(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / METERING_BYTES));
}

/** Read units of one strongly consistent read: 4 KB steps. */
export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / (4 * KB)));
  return consistent ? units : units / 2;
}

/** Write units of one write: 1 KB steps. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / KB));
}

/** Cost of `quantity` units priced per million in tiers (each tier's `upTo` is cumulative). */
export function tieredCost(quantity: number, tiers: readonly PriceTier[]): number {
  let cost = 0;
  let start = 0;
  for (const tier of tiers) {
    const end = tier.upTo ?? Infinity;
    const inTier = Math.max(0, Math.min(quantity, end) - start);
    cost += (inTier / MILLION) * tier.value;
    start = end;
    if (quantity <= end) break;
  }
  return cost;
}

const perMillion = (quantity: number, price: number) => (quantity / MILLION) * price;
const afterFree = (quantity: number, free: number) => Math.max(0, quantity - free);

/** Monthly usage of the serverless deployment: the quantities each price applies to. */
export interface ServerlessUsage {
  readonly connectionMinutes: number;
  readonly sessions: number;
  readonly messagesInbound: number;
  readonly messagesOutbound: number;
  readonly countChanges: number;
  /** Fan-outs sent (each reaches every connected dashboard once): count changes, coalesced. */
  readonly flushes: number;
  readonly httpRequests: number;
  readonly lambdaInvocations: {
    readonly slackEvents: number;
    readonly fanout: number;
    readonly ws: number;
    readonly reconcile: number;
  };
  readonly lambdaGbSeconds: number;
  readonly dynamoWru: number;
  readonly dynamoRru: number;
  readonly snsPublishes: number;
  readonly logGb: number;
}

/**
 * Flushes per second of a coalesced fan-out for count changes arriving at random (Poisson) at
 * `changesPerSecond`, when a flush holds the gate for `deadSeconds` (its duration plus the
 * window): a change during that time joins the next flush, which starts when it ends; a change
 * after it starts a flush at once. A renewal process with mean gap `dead + e^(-rate x dead) /
 * rate`: at low rates every change is its own flush, at high rates one flush per `dead`.
 */
export function coalescedFlushRate(changesPerSecond: number, deadSeconds: number): number {
  if (changesPerSecond <= 0) return 0;
  if (deadSeconds <= 0) return changesPerSecond;
  return 1 / (deadSeconds + Math.exp(-changesPerSecond * deadSeconds) / changesPerSecond);
}

/**
 * Hours a dashboard is connected per day: visible time, plus the start of each hidden stretch
 * until the hidden-tab timeout closes the socket (all of it without a timeout).
 */
export function connectedHours(hoursOpen: number, a: Assumptions): number {
  if (a.hiddenTabTimeoutMinutes === null) return hoursOpen;
  const keptWhileHidden = Math.min(1, a.hiddenTabTimeoutMinutes / a.hiddenStretchMinutes);
  return hoursOpen * (1 - a.hiddenShare + a.hiddenShare * keptWhileHidden);
}

export function serverlessUsage(traffic: Traffic, a: Assumptions): ServerlessUsage {
  const days = a.daysPerMonth;
  const { clients } = traffic;
  const hoursOpen = traffic.hoursConnectedPerDay;
  const hoursConnected = connectedHours(hoursOpen, a);
  const connectedMinutesPerDay = hoursConnected * 60;
  // Every dashboard reconnects when API Gateway ends its connection at the 2-hour limit, and
  // when a hidden tab that closed its socket is shown again.
  const reconnectsAfterHiding =
    a.hiddenTabTimeoutMinutes !== null && a.hiddenTabTimeoutMinutes < a.hiddenStretchMinutes
      ? (hoursOpen * 60 * a.hiddenShare) / a.hiddenStretchMinutes
      : 0;
  const sessionsPerClientDay =
    hoursOpen > 0 ? Math.ceil(hoursConnected / a.maxConnectionHours) + reconnectsAfterHiding : 0;
  const pingsPerClientDay = Math.floor(connectedMinutesPerDay / a.pingIntervalMinutes);

  const sessions = clients * sessionsPerClientDay * days;
  const pings = clients * pingsPerClientDay * days;
  const snapshots = sessions; // one getReactions per connection
  const countChanges = traffic.eventsPerDay * a.countChangeShare * days;
  // Dashboards connected when a change happens: the recipient share, of the connected time.
  const recipients = clients * a.recipientShare * (hoursOpen > 0 ? hoursConnected / hoursOpen : 0);

  const fanoutMs = a.fanoutBaseMs + (a.fanoutMsPer100 * recipients) / 100;
  // Coalescing: changes spread over the hours dashboards are open; each flush holds the gate for
  // its own duration plus the window.
  const coalescing = a.coalesceWindowMs > 0;
  const changesPerSecond = hoursOpen > 0 ? countChanges / days / (hoursOpen * 3600) : 0;
  const flushes = coalescing
    ? coalescedFlushRate(changesPerSecond, (fanoutMs + a.coalesceWindowMs) / 1000) *
      hoursOpen *
      3600 *
      days
    : countChanges;
  const updates = flushes * recipients;

  // Inbound: ping + getReactions frames. Outbound: pong, snapshot, one update per flush per client.
  const messagesInbound = pings + snapshots;
  const messagesOutbound =
    pings + snapshots * meteredMessages(a.snapshotBytes) + updates * meteredMessages(a.updateBytes);

  const slackInvocations = traffic.eventsPerDay * days;
  // One SNS message (coordinator invocation) per change, plus the workers of sharded flushes.
  const workers = workersFor(recipients, {
    threshold: FANOUT_DEFAULTS.shardThreshold,
    connectionsPerWorker: FANOUT_DEFAULTS.connectionsPerWorker,
    maxWorkers: FANOUT_DEFAULTS.maxWorkers,
  });
  const fanoutInvocations = countChanges + flushes * (workers - 1);
  // $connect + $disconnect per session, one invocation per ping and per getReactions.
  const wsInvocations = sessions * 2 + pings + snapshots;
  const reconcileInvocations = a.reconcileRunsPerMonth;

  // A holder waits out the window before a trailing flush: when a change arrived meanwhile.
  const trailingShare = coalescing
    ? 1 - Math.exp(-changesPerSecond * ((fanoutMs + a.coalesceWindowMs) / 1000))
    : 0;
  const fanoutBilledMs = coalescing
    ? countChanges * a.gateMarkMs + flushes * (fanoutMs + trailingShare * a.coalesceWindowMs)
    : countChanges * fanoutMs;
  const gb = (mb: number) => mb / 1024;
  const lambdaGbSeconds =
    (slackInvocations * a.slackEventMs * gb(a.lambdaMemoryMb) +
      fanoutBilledMs * gb(a.fanoutMemoryMb) +
      wsInvocations * a.wsRouteMs * gb(a.lambdaMemoryMb) +
      reconcileInvocations * a.reconcileMs * gb(a.lambdaMemoryMb)) /
    1000;

  // DynamoDB, from the adapters (serverless/src/adapters/dynamodb-*.ts):
  // a flip = getState (consistent GetItem) + putState(pending) + adjustCount + putState(clear);
  // a non-flip = getState (+ one putState for a later no-flip event, counted as a flip here).
  const stateRru = readUnits(a.stateItemBytes, true);
  const stateWru = writeUnits(a.stateItemBytes);
  const eventRru = slackInvocations * stateRru;
  const eventWru = countChanges * (2 * stateWru + writeUnits(a.countItemBytes));
  // Fan-out: eventually consistent Scan of the connections table, page by page.
  const pages = Math.max(1, Math.ceil(recipients / a.connectionPageSize));
  const pageBytes = Math.min(recipients, a.connectionPageSize) * a.connectionItemBytes;
  const fanoutRru = flushes * pages * readUnits(pageBytes, false);
  // The gate (serverless/src/adapters/dynamodb-fanout-gate.ts): each change marks and tries the
  // lease (two writes); each flush takes the set and releases (two writes), reads its counts and
  // looks at the set once more (two consistent reads).
  const gateWru = coalescing ? countChanges * 2 + flushes * 2 : 0;
  const gateRru = coalescing ? flushes * 2 : 0;
  // WebSocket routes: $connect PutItem, $disconnect DeleteItem, ping and getReactions re-put the
  // connection record ("touch"); getReactions also Scans the counts table consistently.
  const connectionWru = writeUnits(a.connectionItemBytes);
  const wsWru = (sessions * 2 + pings + snapshots) * connectionWru;
  const snapshotRru = snapshots * readUnits(a.emojiCount * a.countItemBytes, true);
  // Reconcile: consistent Scans of both tables every run.
  const reconcileRru =
    reconcileInvocations *
    (readUnits(a.storedStates * a.stateItemBytes, true) +
      readUnits(a.emojiCount * a.countItemBytes, true));

  const logBytes =
    (slackInvocations + fanoutInvocations + wsInvocations + reconcileInvocations) *
      a.platformLogBytes +
    slackInvocations * a.slackEventLogBytes +
    flushes * a.fanoutLogBytes +
    wsInvocations * a.wsLogBytes;

  return {
    connectionMinutes: clients * connectedMinutesPerDay * days,
    sessions,
    messagesInbound,
    messagesOutbound,
    countChanges,
    flushes,
    httpRequests: slackInvocations,
    lambdaInvocations: {
      slackEvents: slackInvocations,
      fanout: fanoutInvocations,
      ws: wsInvocations,
      reconcile: reconcileInvocations,
    },
    lambdaGbSeconds,
    dynamoWru: eventWru + wsWru + gateWru,
    dynamoRru: eventRru + fanoutRru + snapshotRru + reconcileRru + gateRru,
    snsPublishes: countChanges,
    logGb: a.includeLogs ? logBytes / 1e9 : 0,
  };
}

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly monthly: number;
}

export interface ServerlessCost {
  readonly usage: ServerlessUsage;
  readonly lines: readonly CostLine[];
  readonly monthly: number;
}

export function serverlessCost(
  traffic: Traffic,
  prices: Prices,
  a: Assumptions = DEFAULT_ASSUMPTIONS,
  free: FreeTier = NO_FREE_TIER,
): ServerlessCost {
  const u = serverlessUsage(traffic, a);
  const messages = u.messagesInbound + u.messagesOutbound;
  const invocations =
    u.lambdaInvocations.slackEvents +
    u.lambdaInvocations.fanout +
    u.lambdaInvocations.ws +
    u.lambdaInvocations.reconcile;
  const lines: CostLine[] = [
    {
      item: 'API Gateway WebSocket messages',
      quantity: messages,
      unit: 'messages',
      monthly: perMillion(afterFree(messages, free.wsMessages), prices.wsMessagesPerMillion),
    },
    {
      item: 'API Gateway WebSocket connection minutes',
      quantity: u.connectionMinutes,
      unit: 'minutes',
      monthly: perMillion(
        afterFree(u.connectionMinutes, free.wsConnectionMinutes),
        prices.wsConnectionMinutesPerMillion,
      ),
    },
    {
      item: 'API Gateway HTTP API requests',
      quantity: u.httpRequests,
      unit: 'requests',
      monthly: tieredCost(
        afterFree(u.httpRequests, free.httpRequests),
        prices.httpRequestsPerMillion,
      ),
    },
    {
      item: 'Lambda requests (arm64)',
      quantity: invocations,
      unit: 'requests',
      monthly: perMillion(
        afterFree(invocations, free.lambdaRequests),
        prices.lambdaRequestsPerMillion,
      ),
    },
    {
      item: 'Lambda duration (arm64)',
      quantity: u.lambdaGbSeconds,
      unit: 'GB-s',
      monthly: afterFree(u.lambdaGbSeconds, free.lambdaGbSeconds) * prices.lambdaGbSecond,
    },
    {
      item: 'DynamoDB on-demand writes',
      quantity: u.dynamoWru,
      unit: 'WRU',
      monthly: perMillion(u.dynamoWru, prices.dynamoWruPerMillion),
    },
    {
      item: 'DynamoDB on-demand reads',
      quantity: u.dynamoRru,
      unit: 'RRU',
      monthly: perMillion(u.dynamoRru, prices.dynamoRruPerMillion),
    },
    {
      item: 'SNS publishes (Lambda deliveries: free)',
      quantity: u.snsPublishes,
      unit: 'publishes',
      monthly:
        perMillion(afterFree(u.snsPublishes, free.snsPublishes), prices.snsPublishesPerMillion) +
        perMillion(u.snsPublishes, prices.snsLambdaDeliveriesPerMillion),
    },
    {
      item: 'CloudWatch Logs ingestion',
      quantity: u.logGb,
      unit: 'GB',
      monthly: u.logGb * prices.logsIngestionPerGb,
    },
  ];
  return { usage: u, lines, monthly: lines.reduce((sum, l) => sum + l.monthly, 0) };
}

export interface DropletNeeds {
  readonly connections: number;
  readonly memoryMb: number;
  /** vCPUs the fan-out needs at peak. */
  readonly peakVcpus: number;
  /** WS_MAX_CONNECTIONS the droplet process derives from its open-file limit. */
  readonly connectionCeiling: number;
}

export function dropletNeeds(traffic: Traffic, a: Assumptions): DropletNeeds {
  const connections = traffic.clients;
  const memoryMb =
    a.dropletBaseMemoryMb +
    (a.managedMongoMonthly === null ? a.dropletMongoMemoryMb : 0) +
    (connections * a.dropletKbPerConnection) / 1024;
  const peakVcpus =
    (peakChangesPerSecond(traffic, a) *
      connections *
      a.recipientShare *
      a.dropletCpuUsPerDelivery) /
    1e6;
  return {
    connections,
    memoryMb,
    peakVcpus,
    connectionCeiling: maxConnectionsFromLimit(a.dropletFdLimit),
  };
}

export interface DropletCost {
  readonly needs: DropletNeeds;
  /** The smallest size that fits, or null when none does (the droplet is one process). */
  readonly size: DropletSize | null;
  /** Infinity when nothing fits. */
  readonly monthly: number;
  readonly reason: string;
}

export function dropletCost(
  traffic: Traffic,
  prices: Prices,
  a: Assumptions = DEFAULT_ASSUMPTIONS,
  forced?: string,
): DropletCost {
  const needs = dropletNeeds(traffic, a);
  const fits = (s: DropletSize) =>
    needs.memoryMb <= s.memoryMb * a.dropletMemoryHeadroom &&
    needs.peakVcpus <= s.vcpus * a.dropletCpuHeadroom;
  const mongo = a.managedMongoMonthly ?? 0;
  if (needs.connections > needs.connectionCeiling) {
    return {
      needs,
      size: null,
      monthly: Infinity,
      reason: `${needs.connections} connections exceed the process's ceiling of ${needs.connectionCeiling} (open-file limit ${a.dropletFdLimit}); scaling out is droplet x K (clusterCost)`,
    };
  }
  const sorted = [...prices.droplets].sort((x, y) => x.monthly - y.monthly);
  if (forced !== undefined) {
    const size = sorted.find((s) => s.slug === forced);
    if (size === undefined) throw new RangeError(`unknown droplet size ${forced}`);
    return {
      needs,
      size,
      monthly: size.monthly + mongo,
      reason: fits(size) ? 'chosen size (fits)' : 'chosen size (does NOT fit the needs)',
    };
  }
  const size = smallestFit(prices.droplets, needs.memoryMb, needs.peakVcpus, a);
  if (size === null) {
    return {
      needs,
      size: null,
      monthly: Infinity,
      reason: `no single droplet has ${needs.memoryMb.toFixed(0)} MB / ${needs.peakVcpus.toFixed(2)} vCPU within headroom`,
    };
  }
  return { needs, size, monthly: size.monthly + mongo, reason: 'smallest size that fits' };
}

/** The cheapest size whose memory and vCPUs hold `memoryMb` and `vcpus` within the headrooms. */
export function smallestFit(
  sizes: readonly DropletSize[],
  memoryMb: number,
  vcpus: number,
  a: Pick<Assumptions, 'dropletMemoryHeadroom' | 'dropletCpuHeadroom'>,
): DropletSize | null {
  return (
    [...sizes]
      .sort((x, y) => x.monthly - y.monthly)
      .find(
        (s) =>
          memoryMb <= s.memoryMb * a.dropletMemoryHeadroom &&
          vcpus <= s.vcpus * a.dropletCpuHeadroom,
      ) ?? null
  );
}

/** Peak count changes per second: the day's changes over the connected hours, times the peak factor. */
function peakChangesPerSecond(traffic: Traffic, a: Assumptions): number {
  const activeSeconds = Math.max(1, traffic.hoursConnectedPerDay) * 3600;
  return ((traffic.eventsPerDay * a.countChangeShare) / activeSeconds) * a.peakFactor;
}

export type Balancer = 'do-lb' | 'nginx-droplet';

export interface ClusterOptions {
  /** App droplets (one droplet process each); undefined: the number that costs least. */
  readonly droplets?: number;
  readonly balancer: Balancer;
}

export interface ClusterCost {
  /** K: app droplets, one droplet process each. */
  readonly droplets: number;
  /** Dashboards each droplet holds (the balancer spreads them evenly). */
  readonly connectionsPerDroplet: number;
  readonly connectionCeiling: number;
  readonly lines: readonly CostLine[];
  /** Infinity when some part fits no size (`reason` says which). */
  readonly monthly: number;
  readonly reason: string;
}

/**
 * Droplet x K: K app droplets behind a load balancer, Redis relaying count changes between them,
 * one MongoDB off the app droplets. Each droplet holds and broadcasts to its own share of the
 * dashboards (the balancer spreads them evenly); MongoDB and Redis each get a droplet of their
 * own unless a managed price is given. Prices are monthly flat rates, so the cost is a step
 * function of traffic.
 */
export function clusterCostFor(
  traffic: Traffic,
  prices: Prices,
  a: Assumptions,
  droplets: number,
  balancer: Balancer,
): ClusterCost {
  if (!Number.isInteger(droplets) || droplets < 1) {
    throw new RangeError(`droplet x K needs a whole K >= 1, got ${droplets}`);
  }
  const ceiling = maxConnectionsFromLimit(a.dropletFdLimit);
  const perDroplet = Math.ceil(traffic.clients / droplets);
  const peak = peakChangesPerSecond(traffic, a) * a.recipientShare;
  const lines: CostLine[] = [];
  const misfits: string[] = [];
  const add = (item: string, size: DropletSize | null, count: number, needs: string): void => {
    if (size === null) misfits.push(`${item}: no size has ${needs}`);
    lines.push({
      item: size === null ? item : `${item} (${size.slug})`,
      quantity: count,
      unit: 'droplets',
      monthly: size === null ? Infinity : size.monthly * count,
    });
  };
  if (perDroplet > ceiling) {
    misfits.push(
      `${perDroplet} connections per droplet exceed the process ceiling of ${ceiling} (open-file limit ${a.dropletFdLimit})`,
    );
  }
  const appMemory = a.dropletBaseMemoryMb + (perDroplet * a.dropletKbPerConnection) / 1024;
  const appVcpus = (peak * perDroplet * a.dropletCpuUsPerDelivery) / 1e6;
  // One droplet process delivers on one core: a bigger droplet does not speed up its fan-out.
  if (appVcpus > a.dropletCpuHeadroom) {
    misfits.push(
      `${perDroplet} dashboards per droplet need ${appVcpus.toFixed(2)} of one core at peak (a droplet process uses one)`,
    );
  }
  add(
    `app droplets, ${perDroplet} dashboards each`,
    smallestFit(prices.droplets, appMemory, appVcpus, a),
    droplets,
    `${appMemory.toFixed(0)} MB / ${appVcpus.toFixed(2)} vCPU`,
  );
  if (balancer === 'do-lb') {
    const nodes = Math.max(1, Math.ceil(traffic.clients / prices.loadBalancerConnectionsPerNode));
    lines.push({
      item: `DigitalOcean Load Balancer (${prices.loadBalancerConnectionsPerNode} connections per node)`,
      quantity: nodes,
      unit: 'nodes',
      monthly: nodes * prices.loadBalancerNodeMonthly,
    });
  } else {
    // nginx relays every frame the app droplets send, so it carries the whole fan-out.
    const memory = a.dropletBaseMemoryMb + (traffic.clients * a.nginxKbPerConnection) / 1024;
    const vcpus = (peak * traffic.clients * a.nginxCpuUsPerDelivery) / 1e6;
    add(
      'nginx droplet',
      smallestFit(prices.droplets, memory, vcpus, a),
      1,
      `${memory.toFixed(0)} MB / ${vcpus.toFixed(2)} vCPU`,
    );
  }
  if (a.managedRedisMonthly === null) {
    const memory = a.dropletBaseMemoryMb + a.redisMemoryMb;
    add('Redis droplet', smallestFit(prices.droplets, memory, 0, a), 1, `${memory} MB`);
  } else {
    lines.push({
      item: 'managed Redis',
      quantity: 1,
      unit: 'cluster',
      monthly: a.managedRedisMonthly,
    });
  }
  if (a.managedMongoMonthly === null) {
    const memory = a.dropletBaseMemoryMb + a.dropletMongoMemoryMb;
    add('MongoDB droplet', smallestFit(prices.droplets, memory, 0, a), 1, `${memory} MB`);
  } else {
    lines.push({
      item: 'managed MongoDB',
      quantity: 1,
      unit: 'cluster',
      monthly: a.managedMongoMonthly,
    });
  }
  const fits = misfits.length === 0;
  return {
    droplets,
    connectionsPerDroplet: perDroplet,
    connectionCeiling: ceiling,
    lines,
    monthly: fits ? lines.reduce((sum, l) => sum + l.monthly, 0) : Infinity,
    reason: fits ? `${droplets} droplets` : misfits.join('; '),
  };
}

/**
 * Droplet x K at its cheapest K (or at `options.droplets`): from the fewest droplets whose
 * processes hold the dashboards and their peak fan-out up to four times as many, since smaller
 * droplets can be cheaper in total than fewer big ones.
 */
export function clusterCost(
  traffic: Traffic,
  prices: Prices,
  a: Assumptions = DEFAULT_ASSUMPTIONS,
  options: ClusterOptions = { balancer: 'do-lb' },
): ClusterCost {
  if (options.droplets !== undefined) {
    return clusterCostFor(traffic, prices, a, options.droplets, options.balancer);
  }
  // Fewest processes that hold the dashboards, each delivering to its share on one core.
  const totalVcpus =
    (peakChangesPerSecond(traffic, a) *
      a.recipientShare *
      traffic.clients *
      a.dropletCpuUsPerDelivery) /
    1e6;
  const fewest = Math.max(
    1,
    Math.ceil(traffic.clients / maxConnectionsFromLimit(a.dropletFdLimit)),
    Math.ceil(totalVcpus / a.dropletCpuHeadroom),
  );
  let best = clusterCostFor(traffic, prices, a, fewest, options.balancer);
  for (let k = fewest + 1; k <= fewest * 4; k++) {
    const c = clusterCostFor(traffic, prices, a, k, options.balancer);
    if (c.monthly < best.monthly) best = c;
  }
  return best;
}

/**
 * The smallest x in [lo, hi] where f(x) >= 0, for f non-decreasing (bisection on integers).
 * Null when f(hi) < 0 (no crossing in range) ; lo when f(lo) >= 0.
 */
export function bisectInteger(f: (x: number) => number, lo: number, hi: number): number | null {
  if (f(hi) < 0) return null;
  if (f(lo) >= 0) return lo;
  let a = lo;
  let b = hi;
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (f(mid) >= 0) b = mid;
    else a = mid;
  }
  return b;
}

export interface BreakEven {
  /** Clients at which serverless costs at least as much as the droplet (events/day fixed). */
  readonly clients: number | null;
  /** Events/day at which serverless costs at least as much as the droplet (clients fixed). */
  readonly eventsPerDay: number | null;
}

/**
 * Where the serverless bill reaches the droplet's. The droplet's price is the one chosen for the
 * given traffic (held fixed), because its step function would otherwise hide the crossing: the
 * question answered is "how far can traffic grow before this droplet is the cheaper option".
 */
export function breakEven(
  traffic: Traffic,
  prices: Prices,
  a: Assumptions = DEFAULT_ASSUMPTIONS,
  free: FreeTier = NO_FREE_TIER,
  dropletMonthly: number = dropletCost(traffic, prices, a).monthly,
  limits: { maxClients: number; maxEventsPerDay: number } = {
    maxClients: 10_000_000,
    maxEventsPerDay: 100_000_000,
  },
): BreakEven {
  if (!Number.isFinite(dropletMonthly)) return { clients: null, eventsPerDay: null };
  const gapClients = (clients: number) =>
    serverlessCost({ ...traffic, clients }, prices, a, free).monthly - dropletMonthly;
  const gapEvents = (eventsPerDay: number) =>
    serverlessCost({ ...traffic, eventsPerDay }, prices, a, free).monthly - dropletMonthly;
  return {
    clients: bisectInteger(gapClients, 0, limits.maxClients),
    eventsPerDay: bisectInteger(gapEvents, 0, limits.maxEventsPerDay),
  };
}

/** The subset of loadtest/cost/prices.json the model reads. */
export interface PricesFile {
  readonly prices: {
    readonly apiGatewayWebSocketMessages: { readonly value: number };
    readonly apiGatewayWebSocketConnectionMinutes: { readonly value: number };
    readonly apiGatewayHttpApiRequests: { readonly tiers: readonly PriceTier[] };
    readonly lambdaArmRequests: { readonly value: number };
    readonly lambdaArmGbSeconds: { readonly value: number };
    readonly dynamoDbOnDemandWrites: { readonly value: number };
    readonly dynamoDbOnDemandReads: { readonly value: number };
    readonly snsPublishes: { readonly value: number };
    readonly snsLambdaDeliveries: { readonly value: number };
    readonly cloudWatchLogsIngestion: { readonly value: number };
    readonly digitalOceanDroplets: { readonly sizes: readonly DropletSize[] };
    readonly digitalOceanLoadBalancer: {
      readonly value: number;
      readonly connectionsPerNode: number;
    };
  };
  readonly freeTier: Readonly<
    Record<string, { readonly allowance: number | null; readonly kind: 'always' | '12-months' }>
  >;
}

export function pricesFromFile(file: PricesFile): Prices {
  const p = file.prices;
  return {
    wsMessagesPerMillion: p.apiGatewayWebSocketMessages.value,
    wsConnectionMinutesPerMillion: p.apiGatewayWebSocketConnectionMinutes.value,
    httpRequestsPerMillion: p.apiGatewayHttpApiRequests.tiers,
    lambdaRequestsPerMillion: p.lambdaArmRequests.value,
    lambdaGbSecond: p.lambdaArmGbSeconds.value,
    dynamoWruPerMillion: p.dynamoDbOnDemandWrites.value,
    dynamoRruPerMillion: p.dynamoDbOnDemandReads.value,
    snsPublishesPerMillion: p.snsPublishes.value,
    snsLambdaDeliveriesPerMillion: p.snsLambdaDeliveries.value,
    logsIngestionPerGb: p.cloudWatchLogsIngestion.value,
    droplets: p.digitalOceanDroplets.sizes,
    loadBalancerNodeMonthly: p.digitalOceanLoadBalancer.value,
    loadBalancerConnectionsPerNode: p.digitalOceanLoadBalancer.connectionsPerNode,
  };
}

export type FreeTierMode = 'none' | 'always' | 'new-account';

/** The allowances that apply in `mode` (unknown allowances, `null` in the file, count as 0). */
export function freeTierFromFile(file: PricesFile, mode: FreeTierMode): FreeTier {
  if (mode === 'none') return NO_FREE_TIER;
  const get = (name: string): number => {
    const entry = file.freeTier[name];
    if (entry === undefined || entry.allowance === null) return 0;
    return entry.kind === 'always' || mode === 'new-account' ? entry.allowance : 0;
  };
  return {
    wsMessages: get('apiGatewayWebSocketMessages'),
    wsConnectionMinutes: get('apiGatewayWebSocketConnectionMinutes'),
    httpRequests: get('apiGatewayHttpApiRequests'),
    lambdaRequests: get('lambdaRequests'),
    lambdaGbSeconds: get('lambdaGbSeconds'),
    snsPublishes: get('snsPublishes'),
  };
}
