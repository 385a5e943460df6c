/**
 * The building blocks both deployments validate their environment variables with. Each
 * deployment still reads its own environment in its own `config.ts` and passes it in as `env`;
 * nothing here reads the environment itself.
 *
 * Why shared: so that a bad deploy of either deployment fails the same way, with one message
 * style (`NAME: must be an integer 1-1000`), every problem reported at once rather than one per
 * restart, and each line naming the variable to fix.
 */
import { z } from 'zod';

/**
 * Environment variables as a deployment reads them (its own environment, or a test's object). A
 * null counts as unset: serverless.yml passes tuning variables as `${env:X, null}` (left out of
 * the deployed template when unset), and the local emulators hand them to handlers as null.
 */
export type Env = Readonly<Record<string, string | null | undefined>>;

/** Thrown by the config loaders with one line per invalid variable. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  /** `NAME: problem` lines, one per invalid variable. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }

  /** What a command prints on stderr: `invalid configuration:` and one indented line a problem. */
  listing(): string {
    return `invalid configuration:\n  ${this.problems.join('\n  ')}`;
  }
}

// zod's own messages ("Invalid input: expected number, received NaN") do not say what to do; each
// rule here states the accepted range in the words the error line will show.

/** A decimal integer from `min` to `max`; anything else reads `must be an integer MIN-MAX`. */
export function integer(min: number, max: number): z.ZodType<number, string> {
  const message = `must be an integer ${min}-${max}`;
  return z
    .string()
    .trim()
    .regex(/^\d+$/, message)
    .transform(Number)
    .refine((n) => Number.isSafeInteger(n) && n >= min && n <= max, message);
}

/** A non-blank string, trimmed; a blank one reads `must be WHAT`. */
export const nonEmpty = (what: string): z.ZodType<string, string> =>
  z.string().trim().min(1, `must be ${what}`);

/**
 * One of `values`, after `normalise` (e.g. upper-casing); anything else reads
 * `must be one of A, B, C`.
 */
export function oneOf<const T extends string>(
  values: readonly [T, ...T[]],
  normalise: (raw: string) => string = (raw) => raw,
): z.ZodType<T, string> {
  return z
    .string()
    .trim()
    .transform(normalise)
    .pipe(z.enum(values, { error: `must be one of ${values.join(', ')}` }));
}

/** One environment variable: how to validate it, its default and how to document it. */
export interface KeySpec<T> {
  readonly description: string;
  /** The default as the configuration table shows it. */
  readonly defaultText: string;
  readonly schema: z.ZodType<T, string>;
  /** Used when the variable is unset or empty; without one the variable is required. */
  readonly fallback?: () => T;
  /** Unset is allowed and yields `undefined`. */
  readonly optional?: true;
}

/** Declares a `KeySpec`, inferring `T` from its schema (an identity function for type checking). */
export const spec = <T>(s: KeySpec<T>): KeySpec<T> => s;

/** A deployment's table of variables, keyed by variable name. */
export type KeySpecs = Readonly<Record<string, KeySpec<unknown>>>;

/** The validated values of `keys`; `undefined` only for unset `optional` variables. */
export type EnvValues<S extends KeySpecs, K extends keyof S> = {
  [P in K]: (S[P] extends KeySpec<infer T> ? T : never) | undefined;
};

/**
 * Validates `keys` of `env` against `specs`, collecting every problem before failing so that one
 * run shows them all. Throws `ConfigError` with `NAME: problem` lines in the order of `keys`.
 */
export function readEnvKeys<S extends KeySpecs, K extends keyof S & string>(
  specs: S,
  env: Env,
  keys: readonly K[],
): EnvValues<S, K> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of keys) {
    const s = specs[key] as KeySpec<unknown>;
    const raw = env[key];
    if (raw === undefined || raw === null || raw.trim() === '') {
      if (s.fallback) out[key] = s.fallback();
      else if (s.optional) out[key] = undefined;
      else problems.push(`${key}: is required (${s.description})`);
      continue;
    }
    const parsed = s.schema.safeParse(raw);
    if (parsed.success) out[key] = parsed.data;
    else problems.push(`${key}: ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as EnvValues<S, K>;
}

/**
 * A Markdown table of every variable in `specs`, its default and its description. With `padded`
 * (the default) columns are padded the way Prettier formats tables, so that a README can hold it
 * verbatim; without, cells are unpadded and the separator row is `| --- | --- | --- |`.
 */
export function describeEnvKeys(specs: KeySpecs, { padded = true } = {}): string {
  const rows = [
    ['variable', 'default', 'description'],
    ...Object.entries(specs).map(([key, s]) => [`\`${key}\``, s.defaultText, s.description]),
  ];
  const widths = [0, 1, 2].map((i) => (padded ? Math.max(...rows.map((r) => r[i]!.length)) : 3));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (padded ? c.padEnd(widths[i]!) : c)).join(' | ')} |`;
  const [header, ...body] = rows;
  return [line(header!), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
