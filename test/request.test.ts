import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { getAddress, registerCallback, stopCallback, type HttpRequest } from '../lib/index.js';
import { rawRequest, serve } from './support.js';

/** Serves one request and hands back the dictionary the callback saw, plus what it computed from it. */
async function capture(
  t: import('node:test').TestContext,
  bytes: string,
  inspectRequest: (request: HttpRequest) => unknown | Promise<unknown> = () => undefined,
): Promise<{ request: HttpRequest; seen: unknown; response: string; clientPort: number }> {
  let request!: HttpRequest;
  let seen: unknown;
  const served = await serve(t, async (incoming) => {
    request = incoming;
    seen = await inspectRequest(incoming);
    return { statuscode: 200, message: 'ok' };
  });
  const socket = net.connect(served.port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const clientPort = socket.localPort!;
  const response = await new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\r\n\r\nok')) resolve(text);
    });
    socket.write(bytes);
  });
  socket.destroy();
  return { request, seen, response, clientPort };
}

test('the request dictionary has exactly the Seattle fields, in Seattle order', async (t) => {
  const { request, clientPort } = await capture(t, 'GET /a%20b/c?foo=bar&baz HTTP/1.1\r\nHost: example\r\nX-Thing: 1\r\n\r\n');
  assert.deepEqual(Object.keys(request), [
    'verb', 'path', 'querystr', 'querydict', 'version', 'datastream', 'headers', 'httpdid', 'remoteipstr', 'remoteportnum',
  ]);
  assert.equal(request.verb, 'GET');
  assert.equal(request.path, '/a%20b/c', 'the path is not percent-decoded');
  assert.equal(request.querystr, 'foo=bar&baz');
  assert.deepEqual(request.querydict, { foo: 'bar', baz: null });
  assert.equal(request.version, '1.1');
  assert.equal(request.headers['x-thing'], '1');
  assert.equal(request.headers.Host, 'example');
  assert.ok(Number.isInteger(request.httpdid) && request.httpdid > 0);
  assert.equal(request.remoteipstr, '127.0.0.1');
  assert.equal(request.remoteportnum, clientPort);
});

test('querystr is null without ?, empty with a bare ?, and splits at the first ?', async (t) => {
  const none = await capture(t, 'GET /x HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal(none.request.querystr, null);
  assert.deepEqual(none.request.querydict, {});
  const bare = await capture(t, 'GET /x? HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal(bare.request.path, '/x');
  assert.equal(bare.request.querystr, '');
  assert.deepEqual(bare.request.querydict, {});
  const twice = await capture(t, 'GET /x?a=1?b=2 HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal(twice.request.querystr, 'a=1?b=2');
  assert.deepEqual(twice.request.querydict, { a: '1?b=2' });
});

test('HTTP/1.0 requests report version 1.0', async (t) => {
  const { request, response } = await capture(t, 'GET / HTTP/1.0\r\n\r\n');
  assert.equal(request.version, '1.0');
  assert.match(response, /^HTTP\/1\.0 200 OK\r\n/);
});

test('headers: case-insensitive lookup, names as sent, repeated ones joined', async (t) => {
  const { request } = await capture(t, 'GET / HTTP/1.1\r\nHost: h\r\nContent-TYPE: text/x\r\nX-A: 1\r\nx-a: 2\r\n\r\n');
  assert.deepEqual(Object.keys(request.headers), ['Host', 'Content-TYPE', 'X-A']);
  assert.equal(request.headers['content-type'], 'text/x');
  assert.equal(request.headers['Content-Type'], 'text/x');
  assert.equal(request.headers['x-a'], '1, 2');
});

test('extensions are not enumerable: console.log and JSON show the Seattle dictionary', async (t) => {
  const { request, seen } = await capture(t, 'GET /p?q=1 HTTP/1.1\r\nHost: h\r\n\r\n', (r) => ({
    json: JSON.parse(JSON.stringify(r)),
    shown: inspect(r),
    scheme: r.scheme,
    raw: r.rawheaders,
    aborted: r.signal.aborted,
  }));
  const view = seen as { json: Record<string, unknown>; shown: string; scheme: string; raw: unknown; aborted: boolean };
  assert.deepEqual(Object.keys(view.json), Object.keys(request));
  assert.equal(view.json.path, '/p');
  assert.deepEqual(view.json.querydict, { q: '1' });
  for (const field of ['verb', 'querydict', 'remoteportnum', 'datastream']) assert.match(view.shown, new RegExp(field));
  assert.doesNotMatch(view.shown, /signal|scheme|rawheaders|Getter/);
  assert.equal(view.scheme, 'http');
  assert.deepEqual(view.raw, [['Host', 'h']]);
  assert.equal(view.aborted, false);
  for (const hidden of ['signal', 'scheme', 'rawheaders']) {
    assert.equal(Object.keys(request).includes(hidden), false);
  }
});

test('fields can be reassigned like any dictionary entry', async (t) => {
  const { seen } = await capture(t, 'GET /x?a=1 HTTP/1.1\r\nHost: h\r\n\r\n', (r) => {
    r.querydict = { replaced: true };
    r.path = '/y';
    return { querydict: r.querydict, path: r.path, spread: { ...r }.querydict };
  });
  assert.deepEqual(seen, { querydict: { replaced: true }, path: '/y', spread: { replaced: true } });
});

test('remoteipstr shows IPv4-mapped IPv6 clients as plain IPv4', async (t) => {
  // Listening on '::' accepts IPv4 clients as ::ffff:127.0.0.1.
  const id = await registerCallback(['::', 0], (request) => ({ statuscode: 200, message: request.remoteipstr }));
  t.after(() => stopCallback(id, { timeout: 0 }));
  const { port } = getAddress(id);
  const { text } = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.ok(text.endsWith('\r\n\r\n127.0.0.1'), text);
});

test('an HTTP/0.9 request line gets 400, as from Seattle, and never reaches the callback', async (t) => {
  let called = 0;
  const served = await serve(t, () => { called += 1; return { statuscode: 200, message: 'just the body' }; });
  const { text, closed } = await rawRequest(served.port, 'GET /\r\n\r\n', { idleMs: 2000 });
  assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.equal(closed, true);
  assert.equal(called, 0);
});

test('with http09, an HTTP/0.9 request line is answered 0.9 style: the body alone, then close', async (t) => {
  let version: string | undefined;
  const served = await serve(t, (request) => {
    version = request.version;
    return { statuscode: 200, message: 'just the body' };
  }, { http09: true });
  const { text, closed } = await rawRequest(served.port, 'GET /\r\n\r\n', { idleMs: 2000 });
  assert.equal(version, '0.9');
  assert.equal(text, 'just the body');
  assert.equal(closed, true);
});

test('console.log shows the datastream as a short summary', async (t) => {
  const { seen } = await capture(t, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc', async (r) => {
    const before = inspect(r.datastream);
    await r.datastream.text();
    return [before, inspect(r)];
  });
  const [before, after] = seen as [string, string];
  assert.equal(before, 'DataStream { bytesRead: 0, ended: false }');
  assert.match(after, /datastream: DataStream \{ bytesRead: 3, ended: true \}/);
});
