/**
 * Parsers for option values, so that every command words a bad value the same way:
 * `option '--rate <n>' argument 'abc' is invalid. must be a number > 0`.
 */
import { InvalidArgumentError } from 'commander';

export interface NumberRule {
  /** Inclusive lower bound (default: none). */
  readonly min?: number;
  /** Exclusive lower bound, for "more than zero". */
  readonly above?: number;
  /** Inclusive upper bound (default: none). */
  readonly max?: number;
  readonly integer?: boolean;
}

function describe(rule: NumberRule): string {
  const parts = [rule.integer ? 'an integer' : 'a number'];
  if (rule.above !== undefined) parts.push(`> ${rule.above}`);
  if (rule.min !== undefined && rule.max !== undefined) parts.push(`${rule.min}-${rule.max}`);
  else if (rule.min !== undefined) parts.push(`>= ${rule.min}`);
  else if (rule.max !== undefined) parts.push(`<= ${rule.max}`);
  return `must be ${parts.join(' ')}`;
}

/** A commander argument parser for a number obeying `rule`. */
export function numberOption(rule: NumberRule = {}): (raw: string) => number {
  return (raw) => {
    const n = raw.trim() === '' ? Number.NaN : Number(raw);
    const ok =
      Number.isFinite(n) &&
      (!rule.integer || Number.isSafeInteger(n)) &&
      (rule.min === undefined || n >= rule.min) &&
      (rule.above === undefined || n > rule.above) &&
      (rule.max === undefined || n <= rule.max);
    if (!ok) throw new InvalidArgumentError(describe(rule));
    return n;
  };
}

/** A comma-separated list; each item is trimmed, empty items are dropped, `item` checks each. */
export function listOption<T = string>(
  item: (raw: string) => T = (raw) => raw as unknown as T,
): (raw: string) => T[] {
  return (raw) => {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (items.length === 0) throw new InvalidArgumentError('must be a comma-separated list');
    return items.map(item);
  };
}

/** A list whose every item must be one of `choices`. */
export function choiceListOption<const T extends string>(
  choices: readonly T[],
): (raw: string) => T[] {
  return listOption((raw) => {
    if (!(choices as readonly string[]).includes(raw)) {
      throw new InvalidArgumentError(`'${raw}' is not one of ${choices.join(', ')}`);
    }
    return raw as T;
  });
}
