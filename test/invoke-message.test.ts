import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpError, invoke } from '../lib/index.js';
import type { Callback, HttpRequest } from '../lib/index.js';

/** Runs `invoke` with a callback that records the request dictionary it was given. */
async function seen(request?: Parameters<typeof invoke>[1], options?: Parameters<typeof invoke>[2]) {
  let given: HttpRequest | undefined;
  const response = await invoke((r) => { given = r; return { statuscode: 200 }; }, request, options);
  assert.ok(given, 'the callback ran');
  return { request: given, response };
}

/** A callback that answers with what `read` makes of the body. */
const bodyEcho = (read: (request: HttpRequest) => Promise<unknown>): Callback => async (request) =>
  ({ statuscode: 200, message: JSON.stringify(await read(request)) });

// The request dictionary.

test('defaults: GET / over 1.1 from 127.0.0.1, no query, a Host header, an empty body', async () => {
  let read: Buffer | undefined;
  const { request } = await seen();
  await invoke(async (r) => { read = await r.datastream.read(10); return { statuscode: 200 }; });
  assert.equal(read?.length, 0);
  assert.deepEqual(JSON.parse(JSON.stringify(request)), {
    verb: 'GET', path: '/', querystr: null, querydict: {}, version: '1.1', datastream: {},
    headers: { Host: 'localhost' }, httpdid: 0, remoteipstr: '127.0.0.1', remoteportnum: 0,
  });
  assert.equal(request.scheme, 'http');
  assert.deepEqual(request.rawheaders, [['Host', 'localhost']]);
  assert.equal(request.signal.aborted, false);
});

test('the fields given are used as given', async () => {
  const { request } = await seen({
    verb: 'DELETE', path: '/items/7', version: '1.0', headers: { host: 'example.org' },
    httpdid: 42, remoteipstr: '::ffff:10.0.0.9', remoteportnum: 5123,
  });
  assert.equal(request.verb, 'DELETE');
  assert.equal(request.path, '/items/7');
  assert.equal(request.version, '1.0');
  assert.deepEqual({ ...request.headers }, { host: 'example.org' }, 'a given Host replaces the default, in any case');
  assert.equal(request.httpdid, 42);
  assert.equal(request.remoteipstr, '10.0.0.9', 'shown as plain IPv4, as on the server');
  assert.equal(request.remoteportnum, 5123);
});

test('querystr is split from path, or given apart; querydict is parsed with the query option', async () => {
  const fromPath = (await seen({ path: '/find?a=1&b&a=2&x=%zz' })).request;
  assert.equal(fromPath.path, '/find');
  assert.equal(fromPath.querystr, 'a=1&b&a=2&x=%zz');
  assert.deepEqual(fromPath.querydict, { a: ['1', '2'], b: null, x: '%zz' });

  const apart = (await seen({ path: '/find', querystr: 'q=has?mark' })).request;
  assert.equal(apart.path, '/find');
  assert.equal(apart.querystr, 'q=has?mark');
  assert.deepEqual(apart.querydict, { q: 'has?mark' });

  assert.equal((await seen({ path: '/find?' })).request.querystr, '');
  assert.equal((await seen({ path: '/find', querystr: null })).request.querystr, null);
  const listed = (await seen({ path: '/?a=1,2' }, { query: { comma: true } })).request;
  assert.deepEqual(listed.querydict, { a: ['1', '2'] });
});

test('headers: case-insensitive lookup, names enumerated as given, repeats joined as Node joins them', async () => {
  const { request } = await seen({ headers: { 'X-Thing': 'a', Cookie: ['a=1', 'b=2'], Accept: ['text/html', 'text/plain'] } });
  assert.equal(request.headers['x-thing'], 'a');
  assert.equal(request.headers['X-THING'], 'a');
  assert.ok('x-thing' in request.headers);
  assert.deepEqual(Object.keys(request.headers), ['Host', 'X-Thing', 'Cookie', 'Accept']);
  assert.equal(request.headers.cookie, 'a=1; b=2');
  assert.equal(request.headers.accept, 'text/html, text/plain');
  assert.deepEqual(request.rawheaders.slice(1, 3), [['X-Thing', 'a'], ['Cookie', 'a=1']]);
});

// The body.

test('datastream from a string or bytes: Content-Length, text(), json(), form()', async () => {
  const text = await invoke(bodyEcho((r) => r.datastream.text()), { verb: 'POST', datastream: 'héllo' });
  assert.equal(JSON.parse(text.message), 'héllo');
  const headers = (await seen({ verb: 'POST', datastream: 'héllo' })).request.headers;
  assert.equal(headers['content-length'], '6');
  assert.equal(headers['transfer-encoding'], undefined);

  const json = await invoke(bodyEcho((r) => r.datastream.json()), { verb: 'POST', datastream: Buffer.from('{"a":[1,2]}') });
  assert.deepEqual(JSON.parse(json.message), { a: [1, 2] });
  const form = await invoke(bodyEcho((r) => r.datastream.form()), { verb: 'POST', datastream: new TextEncoder().encode('a=1&b') });
  assert.deepEqual(JSON.parse(form.message), { a: '1', b: null });
  const bad = await invoke(bodyEcho((r) => r.datastream.json()), { verb: 'POST', datastream: '{nope' });
  assert.equal(bad.statuscode, 400);
  assert.match(bad.message, /^Invalid JSON in request body/);
});

test('datastream from a sync iterable or an async generator: chunked, read(n) in pieces', async () => {
  const headers = (await seen({ verb: 'POST', datastream: ['a', 'b'] })).request.headers;
  assert.equal(headers['transfer-encoding'], 'chunked');
  assert.equal(headers['content-length'], undefined);

  const pieces = bodyEcho(async (r) => {
    const parts: string[] = [];
    for (let i = 0; i < 10; i++) {
      const chunk = await r.datastream.read(3);
      if (chunk.length === 0) break;
      parts.push(chunk.toString());
    }
    return parts;
  });
  const fromArray = await invoke(pieces, { verb: 'POST', datastream: ['abcd', Buffer.from('ef')] });
  assert.deepEqual(JSON.parse(fromArray.message), ['abc', 'd', 'ef']);
  async function* generate() { yield 'ab'; yield new Uint8Array([99, 100, 101, 102, 103]); }
  const fromGenerator = await invoke(pieces, { verb: 'PUT', datastream: generate() });
  assert.deepEqual(JSON.parse(fromGenerator.message), ['ab', 'cde', 'fg']);
  const iterated = await invoke(async (r) => {
    let total = 0;
    for await (const chunk of r.datastream) total += chunk.length;
    return { statuscode: 200, message: `${total} ${r.datastream.bytesRead} ${r.datastream.ended}` };
  }, { verb: 'POST', datastream: generate() });
  assert.equal(iterated.message, '7 7 true');
});

test('maxBodySize: a body over it rejects with 413, announced or chunked', async () => {
  const read: Callback = async (r) => ({ statuscode: 200, message: await r.datastream.text() });
  const announced = await invoke(read, { verb: 'POST', datastream: 'hello' }, { maxBodySize: 4 });
  assert.equal(announced.statuscode, 413);
  assert.equal(announced.message, 'Request body is larger than the limit of 4 bytes\n');
  assert.ok(announced.error instanceof HttpError);
  const chunked = await invoke(read, { verb: 'POST', datastream: ['he', 'll', 'o'] }, { maxBodySize: 4 });
  assert.equal(chunked.statuscode, 413);
  assert.equal((await invoke(read, { verb: 'POST', datastream: 'hell' }, { maxBodySize: 4 })).message, 'hell');
});

test('a datastream that breaks its own Content-Length fails the read, as a truncated upload would', async () => {
  const errors: Error[] = [];
  const read: Callback = async (r) => ({ statuscode: 200, message: await r.datastream.text() });
  const short = await invoke(read, { verb: 'POST', headers: { 'Content-Length': '9' }, datastream: ['abc'] }, { onError: (e) => errors.push(e) });
  assert.equal(short.statuscode, 500);
  assert.match(String(short.error?.message), /ended after 3 of its Content-Length \(9 bytes\)/);
  const framed = await invoke(read, { verb: 'POST', headers: { 'Content-Length': '3' }, datastream: ['a', 'bc'] });
  assert.equal(framed.message, 'abc');
  assert.equal(errors.length, 1);
});

// What the server refuses before any callback runs.

test("heads the server refuses get the server's status, and the callback is not called", async () => {
  let called = 0;
  const callback: Callback = () => { called += 1; return { statuscode: 200 }; };
  const cases: Array<[Parameters<typeof invoke>[1], number, Parameters<typeof invoke>[2]?]> = [
    [{ version: '1.0', verb: 'POST', datastream: ['chunks'] }, 400],
    [{ headers: { 'Transfer-Encoding': 'gzip' } }, 501],
    [{ headers: { Host: 'a b' } }, 400],
    [{ version: '0.9', verb: 'POST' }, 400],
    [{ version: '0.9' }, 400],
    [{ version: '0.9', verb: 'POST' }, 400, { http09: true }],
    [{ path: `/${'a'.repeat(50)}` }, 414, { maxUrlLength: 20 }],
    [{ headers: { A: '1', B: '2', C: '3' } }, 431, { maxHeaderCount: 3 }],
    [{ verb: 'get' }, 400],
    [{ headers: { 'Content-Length': '3', 'Transfer-Encoding': 'chunked' }, datastream: 'abc' }, 400],
    [{ headers: { 'Content-Length': '-1' } }, 400],
    [{ verb: 'CONNECT', path: '/' }, 501],
  ];
  for (const [request, status, options] of cases) {
    const response = await invoke(callback, request, options);
    assert.equal(response.statuscode, status, JSON.stringify(request));
    assert.ok(response.error instanceof HttpError, 'error says why');
    assert.equal(response.error.status, status);
  }
  assert.equal(called, 0);
  const refused = await invoke(callback, { headers: { 'Transfer-Encoding': 'gzip' } });
  assert.deepEqual(refused.headers, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '16' });
  assert.equal(refused.message, 'Not Implemented\n');
  const http09 = await invoke(() => ({ statuscode: 200, message: 'bare' }), { version: '0.9' }, { http09: true });
  assert.deepEqual([http09.version, http09.headers, http09.message], ['0.9', {}, 'bare']);
});

// Arguments.

test('argument errors: typed, with codes, naming the field, with did-you-mean', async () => {
  const ok: Callback = () => ({ statuscode: 200 });
  const cases: Array<[() => Promise<unknown>, string, RegExp]> = [
    [() => invoke('nope' as unknown as Callback), 'ERR_INVALID_ARG_TYPE', /"callback" argument must be a function/],
    [() => invoke(ok, 'GET /' as never), 'ERR_INVALID_ARG_TYPE', /"request" argument must be an object/],
    [() => invoke(ok, { pth: '/' } as never), 'ERR_INVALID_ARG_VALUE', /unknown option "pth". Did you mean "path"\?/],
    [() => invoke(ok, { querydict: { a: 1 } } as never), 'ERR_INVALID_ARG_VALUE', /give "querystr"/],
    [() => invoke(ok, { verb: 5 } as never), 'ERR_INVALID_ARG_TYPE', /"request.verb" argument must be of type string/],
    [() => invoke(ok, { verb: 'GE T' }), 'ERR_INVALID_ARG_VALUE', /"request.verb" argument must be an HTTP token/],
    [() => invoke(ok, { path: '/a b' }), 'ERR_INVALID_ARG_VALUE', /percent-encode/],
    [() => invoke(ok, { path: 'relative' }), 'ERR_INVALID_ARG_VALUE', /must start with "\/"/],
    [() => invoke(ok, { path: '/?a', querystr: 'b' }), 'ERR_INVALID_ARG_VALUE', /in one of them/],
    [() => invoke(ok, { version: '2.0' } as never), 'ERR_INVALID_ARG_VALUE', /'0.9', '1.0', '1.1'/],
    [() => invoke(ok, { headers: { 'X-N': 1 } } as never), 'ERR_INVALID_ARG_TYPE', /"request.headers\['X-N'\]"/],
    [() => invoke(ok, { headers: { 'X-N': 'a\r\nb' } }), 'ERR_INVALID_ARG_VALUE', /invalid header "X-N"/],
    [() => invoke(ok, { headers: { 'Bad Name': 'a' } }), 'ERR_INVALID_ARG_VALUE', /invalid header "Bad Name"/],
    [() => invoke(ok, { datastream: 42 } as never), 'ERR_INVALID_ARG_TYPE', /"request.datastream" argument must be/],
    [() => invoke(ok, { datastream: 'abc', headers: { 'Content-Length': '2' } }), 'ERR_INVALID_ARG_VALUE', /Content-Length \(2\) disagrees/],
    [() => invoke(ok, { remoteportnum: 70000 }), 'ERR_OUT_OF_RANGE', /"request.remoteportnum"/],
    [() => invoke(ok, { httpdid: 1.5 }), 'ERR_INVALID_ARG_TYPE', /"request.httpdid"/],
    [() => invoke(ok, {}, { callbackTimout: 5 } as never), 'ERR_INVALID_ARG_VALUE', /Did you mean "callbackTimeout"\?/],
  ];
  for (const [run, code, message] of cases) {
    await assert.rejects(run, (error: Error & { code?: string }) => {
      assert.equal(error.code, code, error.message);
      assert.match(error.message, message);
      return true;
    });
  }
});
