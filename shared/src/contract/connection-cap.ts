/**
 * How many WebSockets one droplet process may hold, derived from its open-file limit. The droplet
 * applies it at start (`WS_MAX_CONNECTIONS` default), the load runner reports it and the cost
 * model plans droplets with it: one formula, here, so that the three cannot disagree.
 */

/** Connections allowed when the open-file limit cannot be read (non-Linux, sandboxed /proc). */
export const FALLBACK_MAX_CONNECTIONS = 10_000;

/**
 * Parses the soft "Max open files" limit out of `/proc/self/limits` text; null when it is absent
 * or "unlimited".
 */
export function parseOpenFileSoftLimit(limitsText: string): number | null {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === undefined || !/^\d+$/.test(soft)) return null;
  return Number(soft);
}

/**
 * WebSocket cap derived from the open-file limit. Every WebSocket holds a descriptor for its whole
 * life while an HTTP request holds one briefly, so without a cap a droplet full of dashboards runs
 * out of descriptors and then refuses Slack's POSTs (which Slack retries, then disables the app)
 * and its own health checks (so the load balancer kills a healthy process). The reserve keeps
 * room for those, for the database pool and for log files: 10% of the limit, at least 2000
 * descriptors, but never more than half of a small limit.
 */
export function maxConnectionsFromLimit(softLimit: number | null): number {
  if (softLimit === null || softLimit < 2) return FALLBACK_MAX_CONNECTIONS;
  const reserve = Math.max(Math.ceil(softLimit * 0.1), Math.min(2000, Math.floor(softLimit / 2)));
  return softLimit - reserve;
}
