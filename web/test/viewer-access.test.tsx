import { describe, expect, it } from '@jest/globals';
import { render, screen } from '@testing-library/react';
import { AccessGate, type ViewerAccess } from '../src/auth/access-gate.js';
import {
  TOKEN_STORAGE_KEY,
  signInHref,
  takeFromFragment,
  tokenExpiryMs,
  withTokenParam,
} from '../src/auth/viewer-token.js';
import { MemoryStorage } from './support/fakes.js';

function jwt(payload: Record<string, unknown>): string {
  const part = (v: unknown) =>
    btoa(JSON.stringify(v)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${part({ alg: 'HS256' })}.${part(payload)}.sig`;
}

function access(
  over: Partial<ViewerAccess> & { status?: number },
): ViewerAccess & { asked: string[] } {
  const asked: string[] = [];
  return {
    token: null,
    signInError: null,
    now: () => 1_000_000,
    href: () => 'https://dash.test/',
    forget: () => undefined,
    fetch: async (url, init) => {
      asked.push(`${url} ${init.headers.authorization ?? '-'}`);
      return { status: over.status ?? 200 };
    },
    asked,
    ...over,
  };
}

describe('the viewer token', () => {
  it('moves #token= from the address into sessionStorage and removes it from the URL', () => {
    const storage = new MemoryStorage();
    const result = takeFromFragment(
      'https://dash.test/?backend=droplet#token=abc.def.ghi',
      storage,
    );
    expect(result).toEqual({ cleanedUrl: 'https://dash.test/?backend=droplet', signInError: null });
    expect(storage.getItem(TOKEN_STORAGE_KEY)).toBe('abc.def.ghi');
    expect(takeFromFragment('https://dash.test/', storage)).toEqual({
      cleanedUrl: null,
      signInError: null,
    });
  });

  it('reads a sign-in error from the fragment, and builds the WebSocket and sign-in URLs', () => {
    expect(
      takeFromFragment('https://dash.test/#sign_in_error=sign_in_refused', null).signInError,
    ).toBe('sign_in_refused');
    expect(withTokenParam('wss://ws.test/prod', 'a.b.c')).toBe('wss://ws.test/prod?token=a.b.c');
    expect(signInHref('https://api.test', 'https://dash.test/?x=1#y')).toBe(
      'https://api.test/auth/slack/login?return_to=https%3A%2F%2Fdash.test%2F%3Fx%3D1',
    );
    expect(tokenExpiryMs(jwt({ exp: 2000 }))).toBe(2_000_000);
    expect(tokenExpiryMs('garbage')).toBeNull();
  });
});

describe('AccessGate', () => {
  it('shows the dashboard when GET /reactions answers 200 (DASHBOARD_AUTH=off)', async () => {
    const a = access({});
    render(
      <AccessGate access={a} httpUrl="https://api.test" slackSignIn={false}>
        live
      </AccessGate>,
    );
    expect(await screen.findByText('live')).toBeTruthy();
    expect(a.asked).toEqual(['https://api.test/reactions -']);
  });

  it('asks for access, with Sign in with Slack, when the deployment answers 401', async () => {
    render(
      <AccessGate access={access({ status: 401 })} httpUrl="https://api.test" slackSignIn>
        live
      </AccessGate>,
    );
    expect(
      await screen.findByRole('heading', { name: 'This dashboard needs access' }),
    ).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Sign in with Slack' }).getAttribute('href')).toBe(
      'https://api.test/auth/slack/login?return_to=https%3A%2F%2Fdash.test%2F',
    );
    expect(screen.queryByText('live')).toBeNull();
  });

  it('says the access expired for a token past its exp, without asking the server', async () => {
    const a = access({ token: jwt({ exp: 10 }) });
    render(
      <AccessGate access={a} httpUrl="https://api.test" slackSignIn={false}>
        live
      </AccessGate>,
    );
    expect(await screen.findByRole('heading', { name: 'Your access has expired' })).toBeTruthy();
    expect(a.asked).toEqual([]);
  });

  it.each(['constructor', '__proto__', 'toString', 'nonsense'])(
    'shows the generic sign-in failure for an unknown error code %j from the URL',
    async (code) => {
      render(
        <AccessGate access={access({ signInError: code })} httpUrl="https://api.test" slackSignIn>
          live
        </AccessGate>,
      );
      expect(
        await screen.findByText('The sign-in could not be completed. Please try again.'),
      ).toBeTruthy();
    },
  );
});
