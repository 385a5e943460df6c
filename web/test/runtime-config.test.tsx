import { describe, expect, it } from '@jest/globals';
import { render, screen } from '@testing-library/react';
import { bootstrap } from '../src/bootstrap.js';
import { ConfigError } from '../src/components/config-error.js';
import { hiddenCloseAfterMs } from '../src/config/runtime-config.js';
import { MemoryStorage } from './support/fakes.js';

const good = {
  backends: {
    droplet: { httpUrl: 'http://localhost:3000', wsUrl: 'ws://localhost:3000/ws' },
    serverless: { httpUrl: 'http://localhost:4000', wsUrl: 'ws://localhost:4001' },
  },
};

function serve(body: string, status = 200) {
  const requested: string[] = [];
  const fetch = async (url: string) => {
    requested.push(url);
    return { ok: status < 400, status, text: async () => body };
  };
  return { fetch, requested };
}

async function boot(href: string, body: string, status = 200) {
  const server = serve(body, status);
  const result = await bootstrap({
    href,
    baseUrl: href.split('?')[0]!,
    storage: new MemoryStorage(),
    fetch: server.fetch,
  });
  return { result, requested: server.requested };
}

describe('runtime config', () => {
  it('is fetched next to index.html, wherever the build is served from', async () => {
    const { result, requested } = await boot(
      'https://intranet.test/tools/reactometer/?backend=serverless',
      JSON.stringify(good),
    );
    expect(requested).toEqual(['https://intranet.test/tools/reactometer/config.json']);
    expect(result).toEqual({
      ok: true,
      config: good,
      initial: { backend: 'serverless', view: 'single' },
    });
  });

  it('takes URL overrides from the query string', async () => {
    const { result } = await boot(
      'http://dash.test/?serverlessWs=wss%3A%2F%2Fabc.execute-api.test%2Fprod&dropletHttp=https%3A%2F%2Fdroplet.test',
      JSON.stringify(good),
    );
    expect(result.ok && result.config.backends).toEqual({
      droplet: { httpUrl: 'https://droplet.test', wsUrl: 'ws://localhost:3000/ws' },
      serverless: { httpUrl: 'http://localhost:4000', wsUrl: 'wss://abc.execute-api.test/prod' },
    });
  });

  it('names every broken field', async () => {
    const broken = {
      backends: {
        droplet: { httpUrl: 'ftp://x', wsUrl: 'http://localhost:3000/ws' },
        serverless: {},
      },
    };
    const { result } = await boot('http://dash.test/', JSON.stringify(broken));
    expect(result).toEqual({
      ok: false,
      source: 'http://dash.test/config.json',
      problems: [
        'backends.droplet.httpUrl: must be an http:// or https:// URL',
        'backends.droplet.wsUrl: must be a ws:// or wss:// URL',
        'backends.serverless.httpUrl: is missing',
        'backends.serverless.wsUrl: is missing',
      ],
    });
  });

  it('takes the hidden-tab time in seconds, and refuses one that is not a positive integer', async () => {
    const { result } = await boot(
      'http://dash.test/',
      JSON.stringify({ ...good, hiddenTabCloseSeconds: 120 }),
    );
    expect(result.ok && hiddenCloseAfterMs(result.config)).toBe(120_000);
    expect(hiddenCloseAfterMs(good)).toBeUndefined();
    const bad = await boot(
      'http://dash.test/',
      JSON.stringify({ ...good, hiddenTabCloseSeconds: 0 }),
    );
    expect(bad.result).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/^hiddenTabCloseSeconds: /)],
    });
  });

  it('reports JSON that does not parse, a missing file and a bad override', async () => {
    expect((await boot('http://dash.test/', '{"backends": ')).result).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/^is not valid JSON/)],
    });
    expect((await boot('http://dash.test/', 'Not Found', 404)).result).toMatchObject({
      ok: false,
      problems: ['the server answered HTTP 404'],
    });
    expect(
      (await boot('http://dash.test/?dropletWs=localhost:3000', JSON.stringify(good))).result,
    ).toEqual({
      ok: false,
      source: 'the query string',
      problems: ['dropletWs=localhost:3000: must be a ws:// or wss:// URL'],
    });
  });

  it('is shown as a clear error page when broken', () => {
    render(
      <ConfigError
        source="http://dash.test/config.json"
        problems={['backends.serverless.wsUrl: is missing']}
      />,
    );
    expect(screen.getByRole('alert')).toHaveAccessibleName(
      'The dashboard cannot start: its configuration is broken',
    );
    expect(screen.getByRole('listitem')).toHaveTextContent('backends.serverless.wsUrl: is missing');
    expect(screen.getByRole('alert')).toHaveTextContent('http://dash.test/config.json');
  });
});
