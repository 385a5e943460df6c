/**
 * Which deployment and which view the page shows. The query string wins (a link can say what it
 * shows), then what this browser last chose, then the config's default.
 */
import { BACKEND_IDS, isBackendId, type BackendId } from './runtime-config.js';

export const VIEW_MODES = ['single', 'compare'] as const;
export type ViewMode = (typeof VIEW_MODES)[number];

export function isViewMode(value: unknown): value is ViewMode {
  return typeof value === 'string' && (VIEW_MODES as readonly string[]).includes(value);
}

export const STORAGE_KEYS = {
  backend: 'reactometer.backend',
  view: 'reactometer.view',
} as const;

/** The part of `Storage` used here; reads and writes never throw (private modes, quotas). */
export interface PreferenceStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

function read(storage: PreferenceStorage | null, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function write(storage: PreferenceStorage | null, key: string, value: string): void {
  try {
    storage?.setItem(key, value);
  } catch {
    // Storage can be full or disabled; the choice then lasts for this page only.
  }
}

export interface Preferences {
  readonly backend: BackendId;
  readonly view: ViewMode;
}

export function resolvePreferences(options: {
  readonly params: URLSearchParams;
  readonly storage: PreferenceStorage | null;
  readonly defaultBackend?: BackendId | undefined;
}): Preferences {
  const { params, storage } = options;
  const backend =
    [params.get('backend'), read(storage, STORAGE_KEYS.backend)].find(isBackendId) ??
    options.defaultBackend ??
    BACKEND_IDS[0];
  const view = [params.get('view'), read(storage, STORAGE_KEYS.view)].find(isViewMode) ?? 'single';
  return { backend, view };
}

/** Remembers a choice the user made on the page. */
export function rememberBackend(storage: PreferenceStorage | null, backend: BackendId): void {
  write(storage, STORAGE_KEYS.backend, backend);
}

export function rememberView(storage: PreferenceStorage | null, view: ViewMode): void {
  write(storage, STORAGE_KEYS.view, view);
}

/**
 * The URL after a choice on the page, or null if it needs no change. A `name` parameter already
 * in the URL is updated, or a reload (which ranks the query string first) would undo the choice;
 * one that is absent is not added, so that plain links stay plain.
 */
export function urlAfterChoice(href: string, name: string, value: string): string | null {
  const url = new URL(href);
  if (!url.searchParams.has(name) || url.searchParams.get(name) === value) return null;
  url.searchParams.set(name, value);
  return url.toString();
}
