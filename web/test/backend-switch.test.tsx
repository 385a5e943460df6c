import { afterEach, describe, expect, it } from '@jest/globals';
import { act, cleanup, render, screen, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { App } from '../src/app.js';
import { bootstrap } from '../src/bootstrap.js';
import {
  resolvePreferences,
  STORAGE_KEYS,
  urlAfterChoice,
  type Preferences,
} from '../src/config/preferences.js';
import type { RuntimeConfig } from '../src/config/runtime-config.js';
import { PlatformProvider } from '../src/platform.js';
import { count, MemoryStorage, testPlatform, type TestPlatform } from './support/fakes.js';

const config: RuntimeConfig = {
  backends: {
    droplet: { httpUrl: 'http://droplet.test', wsUrl: 'ws://droplet.test/ws' },
    serverless: { httpUrl: 'https://api.test', wsUrl: 'wss://ws.test' },
  },
};

afterEach(cleanup);

function storageWith(backend?: string): MemoryStorage {
  const storage = new MemoryStorage();
  if (backend !== undefined) storage.setItem(STORAGE_KEYS.backend, backend);
  return storage;
}

describe('choosing the backend', () => {
  it('ranks the query string over localStorage over the default', () => {
    const pick = (query: string, stored?: string, defaultBackend?: 'droplet' | 'serverless') =>
      resolvePreferences({
        params: new URLSearchParams(query),
        storage: storageWith(stored),
        defaultBackend,
      }).backend;
    expect(pick('backend=serverless', 'droplet')).toBe('serverless');
    expect(pick('backend=droplet', 'serverless')).toBe('droplet');
    expect(pick('', 'serverless')).toBe('serverless');
    expect(pick('', undefined)).toBe('droplet');
    expect(pick('', undefined, 'serverless')).toBe('serverless');
    // Values that name no backend are skipped, not obeyed.
    expect(pick('backend=lambda', 'serverless')).toBe('serverless');
    expect(pick('backend=lambda', 'mainframe')).toBe('droplet');
  });

  it('survives storage that throws', () => {
    const broken = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(resolvePreferences({ params: new URLSearchParams(), storage: broken })).toEqual({
      backend: 'droplet',
      view: 'single',
    });
  });

  it('updates a backend parameter already in the URL, and adds none', () => {
    expect(urlAfterChoice('http://x.test/?backend=droplet&a=1', 'backend', 'serverless')).toBe(
      'http://x.test/?backend=serverless&a=1',
    );
    expect(urlAfterChoice('http://x.test/?a=1', 'backend', 'serverless')).toBeNull();
  });
});

function renderApp(
  platform: TestPlatform,
  initial: Preferences = { backend: 'droplet', view: 'single' },
) {
  return render(
    <PlatformProvider platform={platform}>
      <App config={config} initial={initial} />
    </PlatformProvider>,
  );
}

describe('the backend switch', () => {
  it('is a labelled radio group that connects to the chosen deployment and is remembered', async () => {
    const platform = testPlatform({ href: 'http://dashboard.test/?backend=droplet' });
    const user = userEvent.setup();
    renderApp(platform);

    const group = screen.getByRole('group', { name: 'Backend' });
    const droplet = within(group).getByRole('radio', { name: 'Droplet' });
    const serverless = within(group).getByRole('radio', { name: 'Serverless' });
    expect(droplet).toBeChecked();
    expect(platform.server.last.url).toBe('ws://droplet.test/ws');

    act(() => {
      platform.server.last.open();
      platform.server.last.snapshot([count('+1', 7, 7)]);
    });
    expect(screen.getByRole('region', { name: 'Droplet' })).toHaveTextContent(':+1:7');

    await user.click(serverless);
    expect(serverless).toBeChecked();
    expect(platform.memory.getItem(STORAGE_KEYS.backend)).toBe('serverless');
    expect(platform.urls.at(-1)).toBe('http://dashboard.test/?backend=serverless');
    // The old connection is closed and the other deployment's counts replace it.
    expect(platform.server.lastFor('ws://droplet.test/ws').closed).not.toBeNull();
    const socket = platform.server.lastFor('wss://ws.test');
    act(() => {
      socket.open();
      socket.snapshot([count('tada', 3, 1)]);
    });
    const region = screen.getByRole('region', { name: 'Serverless' });
    expect(region).toHaveTextContent(':tada:3');
    expect(screen.queryByRole('region', { name: 'Droplet' })).toBeNull();
  });

  it('moves with the arrow keys', async () => {
    const platform = testPlatform();
    const user = userEvent.setup();
    renderApp(platform);
    const droplet = screen.getByRole('radio', { name: 'Droplet' });
    await user.tab(); // the skip link
    await user.tab();
    expect(droplet).toHaveFocus();
    await user.keyboard('{ArrowRight}');
    expect(screen.getByRole('radio', { name: 'Serverless' })).toBeChecked();
    expect(platform.memory.getItem(STORAGE_KEYS.backend)).toBe('serverless');
  });

  it('starts on the remembered choice after a reload', async () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEYS.backend, 'serverless');
    const fetchConfig = async () => ({
      ok: true,
      status: 200,
      text: async () => JSON.stringify(config),
    });
    const boot = await bootstrap({
      href: 'http://dashboard.test/',
      baseUrl: 'http://dashboard.test/',
      storage,
      fetch: fetchConfig,
    });
    if (!boot.ok) throw new Error(boot.problems.join('; '));
    const platform = testPlatform();
    renderApp(platform, boot.initial);
    expect(screen.getByRole('radio', { name: 'Serverless' })).toBeChecked();
    expect(platform.server.last.url).toBe('wss://ws.test');
  });
});

describe('the side-by-side view', () => {
  it('shows both deployments over two connections and marks the counts that differ', async () => {
    const platform = testPlatform();
    const user = userEvent.setup();
    renderApp(platform);
    await user.click(screen.getByRole('radio', { name: 'Side by side' }));
    expect(platform.memory.getItem(STORAGE_KEYS.view)).toBe('compare');
    const droplet = platform.server.lastFor('ws://droplet.test/ws');
    const serverless = platform.server.lastFor('wss://ws.test');
    act(() => {
      droplet.open();
      serverless.open();
      droplet.snapshot([count('+1', 5, 5), count('eyes', 2, 2)]);
      serverless.snapshot([count('+1', 5, 5), count('eyes', 1, 1)]);
    });
    expect(screen.getByTestId('agreement')).toHaveTextContent('Counts differ for 1 emoji');
    const left = screen.getByRole('region', { name: 'Droplet' });
    const right = screen.getByRole('region', { name: 'Serverless' });
    expect(within(left).getAllByRole('listitem')[1]).toHaveTextContent('≠ 1');
    expect(within(right).getAllByRole('listitem')[1]).toHaveTextContent('≠ 2');
    expect(within(left).getAllByRole('listitem')[0]!.querySelector('.row-diff')).toBeNull();

    act(() => serverless.update([count('eyes', 2, 2)]));
    expect(screen.getByTestId('agreement')).toHaveTextContent(
      'They agree. Droplet and Serverless show the same count for every emoji.',
    );
    expect(document.querySelector('.row-diff')).toBeNull();
  });
});
