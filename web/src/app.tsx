import { useCallback, useState } from 'react';
import {
  BACKEND_DESCRIPTIONS,
  BACKEND_IDS,
  BACKEND_LABELS,
  hiddenCloseAfterMs,
  type BackendId,
  type RuntimeConfig,
} from './config/runtime-config.js';
import {
  rememberBackend,
  rememberView,
  urlAfterChoice,
  type Preferences,
  type ViewMode,
} from './config/preferences.js';
import { CompareView } from './components/compare-view.js';
import { DeploymentPanel } from './components/deployment-panel.js';
import { SegmentedControl, type SegmentOption } from './components/segmented-control.js';
import { useLiveFeed } from './hooks/use-live-feed.js';
import { usePlatform } from './platform.js';
import { AccessGate, type ViewerAccess } from './auth/access-gate.js';
import { withTokenParam } from './auth/viewer-token.js';

const BACKEND_OPTIONS: readonly SegmentOption<BackendId>[] = BACKEND_IDS.map((id) => ({
  value: id,
  label: BACKEND_LABELS[id],
  description: BACKEND_DESCRIPTIONS[id],
}));

const VIEW_OPTIONS: readonly SegmentOption<ViewMode>[] = [
  { value: 'single', label: 'Single' },
  { value: 'compare', label: 'Side by side', description: 'Both deployments at once' },
];

function SingleView({ config, backend }: { config: RuntimeConfig; backend: BackendId }) {
  const feed = useLiveFeed(config.backends[backend].wsUrl, hiddenCloseAfterMs(config));
  return (
    <div className="single">
      <DeploymentPanel backend={backend} endpoints={config.backends[backend]} feed={feed} />
    </div>
  );
}

function Logo() {
  return (
    <svg className="logo" viewBox="0 0 64 64" aria-hidden="true" focusable="false">
      <rect width="64" height="64" rx="14" fill="currentColor" />
      <rect x="12" y="34" width="9" height="18" rx="3" fill="#c7d2fe" />
      <rect x="27.5" y="22" width="9" height="30" rx="3" fill="#e0e7ff" />
      <rect x="43" y="12" width="9" height="40" rx="3" fill="#fff" />
    </svg>
  );
}

export interface AppProps {
  readonly config: RuntimeConfig;
  readonly initial: Preferences;
  /** The viewer's token and how to check it; omitted: no access control (tests, `off`). */
  readonly access?: ViewerAccess;
}

/** The config with the viewer token in every WebSocket URL. */
function withToken(config: RuntimeConfig, token: string | null): RuntimeConfig {
  if (token === null) return config;
  const backends = { ...config.backends };
  for (const id of BACKEND_IDS) {
    backends[id] = { ...backends[id], wsUrl: withTokenParam(backends[id].wsUrl, token) };
  }
  return { ...config, backends };
}

export function App({ config: plainConfig, initial, access }: AppProps) {
  const config = withToken(plainConfig, access?.token ?? null);
  const platform = usePlatform();
  const [backend, setBackend] = useState(initial.backend);
  const [view, setView] = useState(initial.view);

  const updateUrl = useCallback(
    (name: string, value: string) => {
      const next = urlAfterChoice(platform.href(), name, value);
      if (next !== null) platform.replaceUrl(next);
    },
    [platform],
  );

  const chooseBackend = (next: BackendId) => {
    setBackend(next);
    rememberBackend(platform.storage, next);
    updateUrl('backend', next);
  };
  const chooseView = (next: ViewMode) => {
    setView(next);
    rememberView(platform.storage, next);
    updateUrl('view', next);
  };

  const shown = view === 'compare' ? BACKEND_IDS : [backend];
  const views =
    view === 'compare' ? (
      <CompareView config={config} />
    ) : (
      <SingleView key={backend} config={config} backend={backend} />
    );

  return (
    <div className="app">
      <a className="skip-link" href="#leaderboards">
        Skip to the leaderboard
      </a>
      <header className="masthead">
        <div className="brand">
          <Logo />
          <div>
            <h1>reactometer</h1>
            <p className="tagline">Slack emoji reactions, counted live</p>
          </div>
        </div>
        <div className="controls">
          {view === 'single' && (
            <SegmentedControl
              legend="Backend"
              name="backend"
              options={BACKEND_OPTIONS}
              value={backend}
              onChange={chooseBackend}
            />
          )}
          <SegmentedControl
            legend="View"
            name="view"
            options={VIEW_OPTIONS}
            value={view}
            onChange={chooseView}
          />
        </div>
      </header>

      <main id="leaderboards" tabIndex={-1}>
        {access === undefined ? (
          views
        ) : (
          <AccessGate
            access={access}
            httpUrl={plainConfig.backends[shown[0]!].httpUrl}
            slackSignIn={plainConfig.backends[shown[0]!].signIn === 'slack'}
          >
            {views}
          </AccessGate>
        )}
      </main>

      <footer className="footer">
        <dl className="endpoints">
          {shown.map((id) => (
            <div key={id}>
              <dt>{BACKEND_LABELS[id]}</dt>
              <dd>
                <code>{plainConfig.backends[id].wsUrl}</code>
                <span aria-hidden="true"> · </span>
                <a href={new URL('reactions', withSlash(config.backends[id].httpUrl)).toString()}>
                  GET /reactions
                </a>
              </dd>
            </div>
          ))}
        </dl>
        <p>
          Endpoints come from <code>config.json</code>; edit it to point this build elsewhere, or
          override them with <code>?dropletWs=</code>, <code>?serverlessWs=</code> (and{' '}
          <code>…Http=</code>) in the address.
        </p>
      </footer>
    </div>
  );
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
