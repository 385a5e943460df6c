/**
 * Everything the dashboard takes from the browser, in one object that tests replace with fakes:
 * sockets, timers, clock, randomness, network status, page visibility, storage and the page URL.
 */
import { createContext, useContext, type ReactNode } from 'react';
import {
  browserNetwork,
  browserSocketFactory,
  browserTimers,
  browserVisibility,
  type NetworkStatus,
  type PageVisibility,
  type SocketFactory,
  type Timers,
} from './live/connection.js';
import { browserFrameScheduler, type FrameScheduler } from './live/live-feed.js';
import type { PreferenceStorage } from './config/preferences.js';

export interface Platform {
  readonly createSocket: SocketFactory;
  readonly network: NetworkStatus;
  readonly visibility: PageVisibility;
  readonly timers: Timers;
  readonly now: () => number;
  readonly random: () => number;
  readonly scheduleFrame: FrameScheduler;
  readonly storage: PreferenceStorage | null;
  /** The page's current URL. */
  readonly href: () => string;
  /** Replaces the page's URL without a reload or a history entry. */
  readonly replaceUrl: (url: string) => void;
}

function browserStorage(): PreferenceStorage | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage;
  } catch {
    // Access itself throws when storage is disabled for the site.
    return null;
  }
}

export function browserPlatform(): Platform {
  return {
    createSocket: browserSocketFactory,
    network: browserNetwork,
    visibility: browserVisibility,
    timers: browserTimers,
    now: () => Date.now(),
    random: () => Math.random(),
    scheduleFrame: browserFrameScheduler,
    storage: browserStorage(),
    href: () => window.location.href,
    replaceUrl: (url) => window.history.replaceState(window.history.state, '', url),
  };
}

const PlatformContext = createContext<Platform | null>(null);

export function PlatformProvider({
  platform,
  children,
}: {
  platform: Platform;
  children: ReactNode;
}) {
  return <PlatformContext.Provider value={platform}>{children}</PlatformContext.Provider>;
}

export function usePlatform(): Platform {
  const platform = useContext(PlatformContext);
  if (platform === null) throw new Error('usePlatform() needs a <PlatformProvider> above it');
  return platform;
}
