/** What the page needs before its first render: a valid config and the initial choices. */
import {
  resolvePreferences,
  type PreferenceStorage,
  type Preferences,
} from './config/preferences.js';
import {
  applyQueryOverrides,
  loadRuntimeConfig,
  type ConfigResult,
  type RuntimeConfig,
} from './config/runtime-config.js';

export type BootResult =
  | { readonly ok: true; readonly config: RuntimeConfig; readonly initial: Preferences }
  | Extract<ConfigResult, { ok: false }>;

export async function bootstrap(options: {
  /** The page's address, whose query string may override the config. */
  readonly href: string;
  /** What `config.json` is resolved against (the document's base URI). */
  readonly baseUrl: string;
  readonly storage: PreferenceStorage | null;
  readonly fetch: Parameters<typeof loadRuntimeConfig>[1];
}): Promise<BootResult> {
  const url = new URL(options.href);
  const loaded = await loadRuntimeConfig(
    new URL('config.json', options.baseUrl).toString(),
    options.fetch,
  );
  if (!loaded.ok) return loaded;
  const overridden = applyQueryOverrides(loaded.config, url.searchParams);
  if (!overridden.ok) return overridden;
  const initial = resolvePreferences({
    params: url.searchParams,
    storage: options.storage,
    defaultBackend: overridden.config.defaultBackend,
  });
  return { ok: true, config: overridden.config, initial };
}
