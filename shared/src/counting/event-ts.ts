/**
 * Slack event timestamps ("1360782804.083113") compared exactly. Parsing them as floats loses
 * the last microsecond digits (2^53 is about 9e15), so they are kept as seconds + micros and
 * stored as a fixed-width string that sorts like the number it represents, in every database.
 */
export interface EventTs {
  readonly seconds: number;
  readonly micros: number;
}

const EVENT_TS = /^(\d{1,12})(?:\.(\d{1,6}))?$/;

/** Parses a Slack `event_ts`; returns null when it is not a non-negative decimal with <= 6 decimals. */
export function parseEventTs(raw: string): EventTs | null {
  const m = EVENT_TS.exec(raw);
  if (!m) return null;
  const seconds = Number(m[1]);
  const micros = m[2] === undefined ? 0 : Number(m[2].padEnd(6, '0'));
  return { seconds, micros };
}

/** Fixed-width form `SSSSSSSSSSSS.UUUUUU`: lexicographic order equals numeric order. */
export function formatEventTs(ts: EventTs): string {
  return `${String(ts.seconds).padStart(12, '0')}.${String(ts.micros).padStart(6, '0')}`;
}

/** Negative, zero or positive as `a` is earlier than, equal to or later than `b`. */
export function compareEventTs(a: EventTs, b: EventTs): number {
  return a.seconds !== b.seconds ? a.seconds - b.seconds : a.micros - b.micros;
}

/** Compares two canonical (`formatEventTs`) strings. */
export function compareCanonicalTs(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
