import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { bootstrap } from './bootstrap.js';
import { ConfigError } from './components/config-error.js';
import { browserPlatform, PlatformProvider } from './platform.js';
import type { ViewerAccess } from './auth/access-gate.js';
import { forgetToken, storedToken, takeFromFragment } from './auth/viewer-token.js';
import './styles.css';

const container = document.getElementById('root');
if (container === null) throw new Error('index.html has no #root element');
const root = createRoot(container);
const platform = browserPlatform();

// The viewer token leaves the address bar (and history) before anything else runs; it lives in
// this tab's sessionStorage, never in localStorage or a cookie.
function sessionStore(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
const session = sessionStore();
const fragment = takeFromFragment(window.location.href, session);
if (fragment.cleanedUrl !== null) platform.replaceUrl(fragment.cleanedUrl);
const access: ViewerAccess = {
  token: storedToken(session),
  signInError: fragment.signInError,
  fetch: (url, init) => fetch(url, init),
  now: () => Date.now(),
  href: () => window.location.href,
  forget: () => forgetToken(session),
};

const boot = await bootstrap({
  href: window.location.href,
  // config.json sits next to index.html, so the same build works under any path.
  baseUrl: document.baseURI,
  storage: platform.storage,
  fetch: (url, init) => fetch(url, init),
});

root.render(
  <StrictMode>
    {boot.ok ? (
      <PlatformProvider platform={platform}>
        <App config={boot.config} initial={boot.initial} access={access} />
      </PlatformProvider>
    ) : (
      <ConfigError source={boot.source} problems={boot.problems} />
    )}
  </StrictMode>,
);
