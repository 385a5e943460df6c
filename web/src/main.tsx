import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { bootstrap } from './bootstrap.js';
import { ConfigError } from './components/config-error.js';
import { browserPlatform, PlatformProvider } from './platform.js';
import './styles.css';

const container = document.getElementById('root');
if (container === null) throw new Error('index.html has no #root element');
const root = createRoot(container);
const platform = browserPlatform();

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
        <App config={boot.config} initial={boot.initial} />
      </PlatformProvider>
    ) : (
      <ConfigError source={boot.source} problems={boot.problems} />
    )}
  </StrictMode>,
);
