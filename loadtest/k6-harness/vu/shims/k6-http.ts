/**
 * `k6/http`, after js/modules/k6/http/request.go and response.go (v2.2.0):
 * - requests fail in the init context ("Making http requests in the init context is not
 *   supported"); the default timeout is 60 s; `discardResponseBodies` makes bodies null unless
 *   the request sets `responseType`; an object body is sent form-encoded;
 * - a failed request (refused, timed out) is a Response with status 0, `error` and `error_code`
 *   (1212 refused, 1050 timeout), not an exception, unless the `throw` option is set;
 * - the sync functions block this VU only; asyncRequest returns a promise settled on the VU's
 *   event loop, and the request keeps the loop (the iteration) alive until it is answered;
 * - every request emits http_reqs, http_req_duration, http_req_failed (expected: 200-399),
 *   data_sent and data_received with the tags method, url, name, status, expected_response.
 */
import { parseDuration } from '../../duration.js';
import type { HttpReply, HttpRequestMessage } from '../../protocol.js';
import type { VuHost } from '../vu-host.js';

interface Params {
  headers?: Record<string, unknown>;
  tags?: Record<string, unknown>;
  timeout?: unknown;
  responseType?: unknown;
  throw?: unknown;
  responseCallback?: unknown;
}

interface ExpectedStatuses {
  readonly __k6ExpectedStatuses: (status: number) => boolean;
}

export function httpModule(host: VuHost): Record<string, unknown> {
  let defaultExpected: (status: number) => boolean = (s) => s >= 200 && s < 400;

  const prepare = (method: string, url: unknown, body: unknown, params: Params | undefined) => {
    if (host.state() === null)
      throw host.error('Making http requests in the init context is not supported');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(params?.headers ?? {})) headers[k] = String(v);
    let payload: string | Uint8Array | null = null;
    if (body !== null && body !== undefined) {
      if (typeof body === 'string') payload = body;
      else if (ArrayBuffer.isView(body))
        payload = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      else if (Object.prototype.toString.call(body) === '[object ArrayBuffer]')
        payload = new Uint8Array(body as ArrayBuffer);
      else if (typeof body === 'object') {
        payload = new URLSearchParams(
          Object.entries(body as Record<string, unknown>).map(([k, v]): [string, string] => [
            k,
            String(v),
          ]),
        ).toString();
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
          headers['Content-Type'] = 'application/x-www-form-urlencoded';
        }
      } else payload = String(body);
    }
    const discard = host.options()['discardResponseBodies'] === true;
    const responseType =
      params?.responseType !== undefined ? String(params.responseType) : discard ? 'none' : 'text';
    if (!['text', 'binary', 'none'].includes(responseType)) {
      throw host.error(`${responseType} isn't a valid ResponseType`);
    }
    const timeoutMs =
      params?.timeout === undefined
        ? 60_000
        : parseDuration(params.timeout, 'invalid timeout value');
    const urlText = String(url);
    if (!/^https?:\/\//.test(urlText))
      throw host.error(`unsupported protocol scheme in "${urlText}"`);
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(params?.tags ?? {})) tags[k] = String(v);
    const expected =
      params?.responseCallback === undefined
        ? defaultExpected
        : params.responseCallback === null
          ? null
          : (params.responseCallback as ExpectedStatuses).__k6ExpectedStatuses;
    const req: HttpRequestMessage = {
      op: 'http',
      id: host.nextId(),
      sync: false,
      method,
      url: urlText,
      body: payload,
      headers,
      timeoutMs,
      responseType: responseType as 'text' | 'binary' | 'none',
    };
    const throwOnError =
      params?.throw !== undefined ? Boolean(params.throw) : host.options()['throw'] === true;
    return { req, tags, expected, throwOnError };
  };

  const finish = (
    prepared: ReturnType<typeof prepare>,
    reply: HttpReply,
  ): Record<string, unknown> => {
    const { req, tags, expected } = prepared;
    const sampleTags: Record<string, string> = {
      method: req.method,
      url: req.url,
      name: tags['name'] ?? req.url,
      status: String(reply.status),
      ...tags,
    };
    if (reply.errorCode !== 0) sampleTags['error_code'] = String(reply.errorCode);
    if (expected !== null) sampleTags['expected_response'] = String(expected(reply.status));
    host.emit('http_reqs', 1, sampleTags);
    host.emit('http_req_duration', reply.durationMs, sampleTags);
    if (expected !== null) host.emit('http_req_failed', expected(reply.status) ? 0 : 1, sampleTags);
    host.emit('data_sent', reply.bytesSent, sampleTags);
    host.emit('data_received', reply.bytesReceived, sampleTags);
    if (reply.errorCode !== 0 && prepared.throwOnError) throw host.error(reply.error);
    if (reply.errorCode !== 0) host.log('warn', `Request Failed error="${reply.error}"`);
    const body =
      reply.body instanceof Uint8Array
        ? reply.body.buffer.slice(
            reply.body.byteOffset,
            reply.body.byteOffset + reply.body.byteLength,
          )
        : reply.body;
    return {
      status: reply.status,
      status_text: reply.status === 0 ? '' : String(reply.status),
      body,
      headers: reply.headers,
      url: reply.url,
      error: reply.error,
      error_code: reply.errorCode,
      proto: 'HTTP/1.1',
      timings: { duration: reply.durationMs, waiting: reply.durationMs },
      request: { method: req.method, url: req.url, headers: req.headers, body: req.body },
      cookies: {},
      json(selector?: unknown) {
        if (typeof body !== 'string')
          throw host.error(
            "the body is null so we can't transform it to JSON - this likely was because of a request error getting the response",
          );
        if (selector !== undefined)
          throw host.error('json(selector) is not modelled by the harness');
        return JSON.parse(body);
      },
    };
  };

  const request = (method: unknown, url: unknown, body?: unknown, params?: Params) => {
    const prepared = prepare(String(method).toUpperCase(), url, body, params);
    const req = { ...prepared.req, sync: true };
    const reply = host.sendSync<HttpReply>(req, req.timeoutMs + 10_000);
    return finish(prepared, reply);
  };

  const asyncRequest = (
    method: unknown,
    url: unknown,
    body?: unknown,
    params?: Params,
  ): Promise<unknown> => {
    if (host.state() === null) {
      throw host.error('Making http requests in the init context is not supported');
    }
    let prepared: ReturnType<typeof prepare>;
    try {
      prepared = prepare(String(method).toUpperCase(), url, body, params);
    } catch (e) {
      // k6 rejects the promise for a request it cannot build (bad URL, timeout, responseType).
      return Promise.reject(e);
    }
    const release = host.loop.register();
    return new Promise((resolve, reject) => {
      host.onHttpReply(prepared.req.id, (reply) => {
        host.loop.run(() => {
          try {
            resolve(finish(prepared, reply));
          } catch (e) {
            reject(e);
          }
        });
        release();
      });
      host.send(prepared.req);
    });
  };

  const api = {
    request,
    asyncRequest,
    get: (url: unknown, params?: Params) => request('GET', url, null, params),
    head: (url: unknown, params?: Params) => request('HEAD', url, null, params),
    post: (url: unknown, body?: unknown, params?: Params) => request('POST', url, body, params),
    put: (url: unknown, body?: unknown, params?: Params) => request('PUT', url, body, params),
    patch: (url: unknown, body?: unknown, params?: Params) => request('PATCH', url, body, params),
    del: (url: unknown, body?: unknown, params?: Params) => request('DELETE', url, body, params),
    options: (url: unknown, body?: unknown, params?: Params) =>
      request('OPTIONS', url, body, params),
    expectedStatuses: (...specs: unknown[]): ExpectedStatuses => ({
      __k6ExpectedStatuses: (status: number) =>
        specs.some((s) =>
          typeof s === 'number'
            ? s === status
            : typeof s === 'object' && s !== null
              ? status >= Number((s as { min: unknown }).min) &&
                status <= Number((s as { max: unknown }).max)
              : false,
        ),
    }),
    setResponseCallback: (cb: unknown) => {
      defaultExpected = cb === null ? () => true : (cb as ExpectedStatuses).__k6ExpectedStatuses;
    },
    batch: () => {
      throw host.error('http.batch is not modelled by the harness');
    },
  };
  return { __esModule: true, default: api, ...api };
}
