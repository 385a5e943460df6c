/**
 * k6 durations (lib/types.ParseExtendedDuration): "1h2m3.5s", "500ms", "10us"; a bare number is
 * milliseconds in options and in request timeouts.
 */
const UNITS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 1e-6,
};

export class DurationError extends Error {
  readonly code = 'invalid_duration';
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

/** Milliseconds in a k6 duration value; `what` names it in the error. */
export function parseDuration(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new DurationError(`${what}: "${String(value)}" is not a duration`);
  }
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  let ms = 0;
  let rest = text;
  const part = /^(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/;
  while (rest.length > 0) {
    const m = part.exec(rest);
    if (m === null) throw new DurationError(`${what}: "${text}" is not a duration`);
    ms += Number(m[1]) * (UNITS[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return ms;
}
