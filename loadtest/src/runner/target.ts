/** What the runner plays scenarios against, and the guard that keeps it on this machine. */

export type TargetKind = 'droplet' | 'serverless-local' | 'droplet-cluster';

export interface Target {
  /** Name in reports and file names ("droplet", "serverless-local"). */
  readonly name: string;
  readonly kind: TargetKind;
  readonly httpUrl: string;
  /** Full WebSocket URL (the droplet's includes `/ws`). */
  readonly wsUrl: string;
  readonly signingSecret: string;
  /** New connections per second this target may be sent (scenarios.json `targets`). */
  readonly maxNewConnectionsPerSecond: number;
  /** Pids of the server's processes now (app, its workers, its database). */
  serverPids(): number[];
  /** Connection records the server still keeps (serverless: the Connections table), if it can tell. */
  connectionRecords?(): Promise<number>;
}

/** True for 127.0.0.0/8 (and "localhost"). */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  return m !== null && m.slice(1).every((p) => Number(p) <= 255);
}

/** Throws unless both URLs point at 127.0.0.0/8: the runner generates real load. */
export function assertLocalTarget(target: Pick<Target, 'name' | 'httpUrl' | 'wsUrl'>): void {
  for (const url of [target.httpUrl, target.wsUrl]) {
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      throw new Error(`target ${target.name}: ${url} is not a URL`);
    }
    if (!isLoopbackHost(host)) {
      throw new Error(
        `target ${target.name}: ${url} is not on 127.0.0.0/8; the Node runner only loads local deployments (use k6 for remote ones)`,
      );
    }
  }
}
