/**
 * CPU time, resident memory and open descriptors of server processes, read from /proc (Linux),
 * and a sampler that reads them every second during a step.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: clock ticks per second in /proc/<pid>/stat (100 on Linux). */
const TICKS_PER_SECOND = 100;

function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields after the last ')' don't.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** User + system CPU time of a process so far, in ms; 0 if it is gone. */
export function cpuMs(pid: number): number {
  const f = statFields(pid);
  if (f === null) return 0;
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND;
}

/** Resident set size in bytes; 0 if the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Open file descriptors (sockets included); 0 if the process is gone or not ours to read. */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** `root` and every process descended from it (children of children...), from /proc. */
export function processTree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f === null) continue;
    const ppid = Number(f[1]);
    const list = parents.get(ppid) ?? [];
    list.push(Number(name));
    parents.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0 && out.length < 10_000) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...(parents.get(pid) ?? []));
  }
  return out;
}

/** Children of `parent` whose command name (/proc/<pid>/comm) is `comm`. */
export function childrenNamed(parent: number, comm: string): number[] {
  return processTree(parent)
    .slice(1)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
      } catch {
        return false;
      }
    });
}

export interface ServerSnapshot {
  readonly cpuMs: number;
  readonly rssBytes: number;
  readonly fds: number;
  readonly pids: number;
}

export function snapshot(pids: readonly number[]): ServerSnapshot {
  let cpu = 0;
  let rss = 0;
  let fds = 0;
  for (const pid of pids) {
    cpu += cpuMs(pid);
    rss += rssBytes(pid);
    fds += openFds(pid);
  }
  return { cpuMs: cpu, rssBytes: rss, fds, pids: pids.length };
}

export interface ServerSample {
  /** Seconds since the step started. */
  readonly t: number;
  /** CPU ms used by the server processes since the step started. */
  readonly cpuMs: number;
  readonly rssMiB: number;
}

export interface ServerUsage {
  readonly cpuMs: number;
  readonly rssStartMiB: number;
  readonly rssEndMiB: number;
  readonly rssMaxMiB: number;
  readonly fdsStart: number;
  readonly fdsEnd: number;
  readonly samples: ServerSample[];
}

const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;

/**
 * Samples the server processes every `intervalMs` until `stop()`. `pids` is called at every
 * sample, so processes the server starts meanwhile (Lambda workers) are counted too; CPU of a
 * process that exits between samples is lost (a small undercount).
 */
export function startSampler(pids: () => number[], intervalMs = 1000): { stop(): ServerUsage } {
  const started = Date.now();
  const base = new Map<number, number>();
  const first = snapshot(pids());
  for (const pid of pids()) base.set(pid, cpuMs(pid));
  const samples: ServerSample[] = [];
  let cpuSoFar = 0;
  const take = (): ServerSnapshot => {
    const list = pids();
    let cpu = 0;
    for (const pid of list) {
      if (!base.has(pid)) base.set(pid, 0);
      cpu += cpuMs(pid) - (base.get(pid) ?? 0);
    }
    cpuSoFar = Math.max(cpuSoFar, cpu);
    const s = snapshot(list);
    samples.push({
      t: Math.round((Date.now() - started) / 100) / 10,
      cpuMs: Math.round(cpuSoFar),
      rssMiB: mib(s.rssBytes),
    });
    return s;
  };
  take();
  const timer = setInterval(take, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      const last = take();
      return {
        cpuMs: Math.round(cpuSoFar),
        rssStartMiB: mib(first.rssBytes),
        rssEndMiB: mib(last.rssBytes),
        rssMaxMiB: Math.max(...samples.map((s) => s.rssMiB)),
        fdsStart: first.fds,
        fdsEnd: last.fds,
        samples,
      };
    },
  };
}

/**
 * Waits until the server processes are nearly idle (under `maxCpuShare` of one core over
 * 1 s) or `timeoutMs` passes, so one step's leftover work does not land in the next step.
 */
export async function waitForIdle(
  pids: () => number[],
  timeoutMs = 20_000,
  maxCpuShare = 0.15,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let prev = snapshot(pids()).cpuMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const cur = snapshot(pids()).cpuMs;
    if (cur - prev < 1000 * maxCpuShare) return true;
    prev = cur;
  }
  return false;
}

/** Dotted IPv4 of a /proc/net/tcp address ("0100007F:1F90" -> "127.0.0.1"); "" for IPv6. */
function ipv4Of(hexAddress: string): string {
  const hex = hexAddress.split(':')[0] ?? '';
  if (hex.length !== 8) return '';
  const b = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return [b[3], b[2], b[1], b[0]].join('.');
}

/**
 * TCP connections in ESTABLISHED state whose local port is `port` (the server's side of its
 * clients' sockets), from /proc/net/tcp and tcp6, leaving out peers `exceptRemote` rejects.
 */
export function establishedOnPort(port: number, exceptRemote?: (ip: string) => boolean): number {
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (local === undefined || f[3] !== '01') continue;
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) !== port) continue;
      if (exceptRemote && exceptRemote(ipv4Of(f[2] ?? ''))) continue;
      n++;
    }
  }
  return n;
}
