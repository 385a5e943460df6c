/**
 * Where the dashboard finds each deployment. The URLs are read at run time from `config.json`
 * next to `index.html` (so a deployed build is repointed by editing one file) and may be
 * overridden per page load by the query string:
 *
 *   ?backend=serverless&dropletWs=ws://…&dropletHttp=http://…&serverlessWs=wss://…&serverlessHttp=https://…
 */
import { z } from 'zod';

export const BACKEND_IDS = ['droplet', 'serverless'] as const;
export type BackendId = (typeof BACKEND_IDS)[number];

export const BACKEND_LABELS: Readonly<Record<BackendId, string>> = {
  droplet: 'Droplet',
  serverless: 'Serverless',
};

/** One line under each deployment's name, so a reader knows what they are looking at. */
export const BACKEND_DESCRIPTIONS: Readonly<Record<BackendId, string>> = {
  droplet: 'Express + ws + MongoDB on one server',
  serverless: 'API Gateway WebSocket + Lambda + DynamoDB',
};

export function isBackendId(value: unknown): value is BackendId {
  return typeof value === 'string' && (BACKEND_IDS as readonly string[]).includes(value);
}

function urlWithProtocol(protocols: readonly string[], what: string): z.ZodType<string> {
  const message = `must be ${what} URL`;
  return z
    .string({ error: (issue) => (issue.input === undefined ? 'is missing' : message) })
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, message);
}

export const httpUrlSchema = urlWithProtocol(['http:', 'https:'], 'an http:// or https://');
export const wsUrlSchema = urlWithProtocol(['ws:', 'wss:'], 'a ws:// or wss://');

export const backendEndpointsSchema = z.object({
  /** Base URL of the HTTP API (`GET /reactions`, `GET /healthz`). */
  httpUrl: httpUrlSchema,
  /** The WebSocket URL the live leaderboard connects to. */
  wsUrl: wsUrlSchema,
  /** `slack`: the deployment runs with DASHBOARD_AUTH=slack, so the page offers Slack sign-in. */
  signIn: z.literal('slack').optional(),
});
export type BackendEndpoints = z.infer<typeof backendEndpointsSchema>;

export const runtimeConfigSchema = z.object({
  backends: z.object({ droplet: backendEndpointsSchema, serverless: backendEndpointsSchema }),
  /** Shown when neither the query string nor a remembered choice picks one. */
  defaultBackend: z.enum(BACKEND_IDS).optional(),
  /**
   * A tab hidden this many seconds closes its socket and reconnects when shown (default 300): a
   * dashboard nobody looks at still pays for a connection and every message on API Gateway.
   */
  hiddenTabCloseSeconds: z.number().int().min(1).max(86_400).optional(),
});

/** `hiddenTabCloseSeconds` in ms, or undefined for the connection's default. */
export function hiddenCloseAfterMs(config: RuntimeConfig): number | undefined {
  return config.hiddenTabCloseSeconds === undefined
    ? undefined
    : config.hiddenTabCloseSeconds * 1000;
}
export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;

export type ConfigResult =
  | { readonly ok: true; readonly config: RuntimeConfig }
  | { readonly ok: false; readonly source: string; readonly problems: readonly string[] };

function pathOf(issue: z.core.$ZodIssue): string {
  return issue.path.length === 0 ? '(top level)' : issue.path.map(String).join('.');
}

/** `backends.serverless.wsUrl: must be a ws:// or wss:// URL`, one line per problem. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    // zod's wording for a missing key is "expected object, received undefined"; say it plainly.
    const missing = issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
    return `${pathOf(issue)}: ${missing ? 'is missing' : issue.message}`;
  });
}

/** Validates already-parsed JSON from `source` (a file name or URL, used in the messages). */
export function parseRuntimeConfig(json: unknown, source: string): ConfigResult {
  const parsed = runtimeConfigSchema.safeParse(json);
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, source, problems: describeIssues(parsed.error) };
}

type FetchLike = (
  url: string,
  init?: { cache?: RequestCache },
) => Promise<Pick<Response, 'ok' | 'status' | 'text'>>;

/** Fetches and validates `config.json`; every failure becomes a result the page can show. */
export async function loadRuntimeConfig(url: string, fetchFn: FetchLike): Promise<ConfigResult> {
  let text: string;
  try {
    // no-store: an edited config.json must take effect on the next load, not after a cache expiry.
    const response = await fetchFn(url, { cache: 'no-store' });
    if (!response.ok) {
      return { ok: false, source: url, problems: [`the server answered HTTP ${response.status}`] };
    }
    text = await response.text();
  } catch (err) {
    return {
      ok: false,
      source: url,
      problems: [`could not be fetched (${(err as Error).message})`],
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, source: url, problems: [`is not valid JSON (${(err as Error).message})`] };
  }
  return parseRuntimeConfig(json, url);
}

/** Query parameters that replace one URL of the config, for this page load only. */
export const URL_OVERRIDES = {
  dropletHttp: ['droplet', 'httpUrl'],
  dropletWs: ['droplet', 'wsUrl'],
  serverlessHttp: ['serverless', 'httpUrl'],
  serverlessWs: ['serverless', 'wsUrl'],
} as const satisfies Record<string, readonly [BackendId, keyof BackendEndpoints]>;

/** Applies the query string's URL overrides; a bad value is a problem, never silently ignored. */
export function applyQueryOverrides(config: RuntimeConfig, params: URLSearchParams): ConfigResult {
  const backends = {
    droplet: { ...config.backends.droplet },
    serverless: { ...config.backends.serverless },
  };
  const problems: string[] = [];
  for (const [param, [backend, key]] of Object.entries(URL_OVERRIDES)) {
    const value = params.get(param);
    if (value === null || value === '') continue;
    const schema = key === 'wsUrl' ? wsUrlSchema : httpUrlSchema;
    const parsed = schema.safeParse(value);
    if (parsed.success) backends[backend][key] = parsed.data;
    else problems.push(`${param}=${value}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  if (problems.length > 0) return { ok: false, source: 'the query string', problems };
  return { ok: true, config: { ...config, backends } };
}
