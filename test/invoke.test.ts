import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { HttpError, invoke } from '../lib/index.js';
import type { Callback, FileLike, HttpResponse, ResponseMessage, ServerOptions } from '../lib/index.js';
import { ask, captureStderr, decodeChunked, errorSink, serve, sleep } from './support.js';

const answer = (message: ResponseMessage, headers?: Record<string, string>): Callback => () => ({ statuscode: 200, headers, message });

// Callbacks and what they return.

test('sync and async callbacks give the same collected response', async () => {
  const sync = await invoke(() => ({ statuscode: 201, headers: { 'X-A': ['1', '2'] }, message: 'made' }));
  const later = await invoke(async () => { await sleep(5); return { statuscode: 201, headers: { 'X-A': ['1', '2'] }, message: 'made' }; });
  for (const response of [sync, later]) {
    assert.deepEqual({ ...response, body: undefined }, {
      statuscode: 201, statusmsg: 'Created', version: '1.1', body: undefined, message: 'made',
      headers: { 'X-A': ['1', '2'], 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '4' },
    });
    assert.ok(response.body.equals(Buffer.from('made')));
    assert.equal('error' in response, false);
  }
});

test('every message kind is collected: string, bytes, Readable, web stream, async iterable, file-like', async () => {
  let closed = 0;
  const file = (): FileLike => {
    const parts = ['fi', 'le', ''];
    return { read: () => parts.shift() ?? '', close: () => { closed += 1; } };
  };
  async function* generate() { yield 'as'; yield Buffer.from('ync'); }
  const web = () => new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('web')); c.close(); } });
  const cases: Array<[ResponseMessage, string, 'length' | 'chunked']> = [
    ['text ✓', 'text ✓', 'length'],
    [Buffer.from([0xff, 0x00]), '\ufffd\u0000', 'length'],
    [Readable.from(['rea', 'dable']), 'readable', 'chunked'],
    [web(), 'web', 'chunked'],
    [generate(), 'async', 'chunked'],
    [file(), 'file', 'chunked'],
    [null, '', 'length'],
  ];
  for (const [message, text, framing] of cases) {
    const response = await invoke(answer(message));
    assert.equal(response.message, text);
    if (framing === 'length') assert.equal(response.headers['Content-Length'], String(response.body.length));
    else assert.equal(response.headers['Transfer-Encoding'], 'chunked');
  }
  assert.deepEqual([...(await invoke(answer(Buffer.from([0xff, 0x00])))).body], [0xff, 0x00]);
  assert.equal(closed, 1, 'the file-like was closed');
});

test('HEAD keeps the GET headers without a body; 204 has neither body nor Content-Length', async () => {
  const head = await invoke(answer('hello'), { verb: 'HEAD' });
  assert.equal(head.headers['Content-Length'], '5');
  assert.equal(head.body.length, 0);
  let closed = false;
  const streamed = await invoke(answer({ read: () => 'x', close: () => { closed = true; } }), { verb: 'HEAD' });
  assert.deepEqual([streamed.message, streamed.headers['Transfer-Encoding'], closed], ['', undefined, true]);
  const empty = await invoke(() => ({ statuscode: 204, message: 'dropped' }));
  assert.deepEqual([empty.statuscode, empty.message, empty.headers['Content-Length']], [204, '', undefined]);
});

test('a 1.0 request gets a 1.0 answer: downgraded, streamed without chunking', async () => {
  const plain = await invoke(() => ({ statuscode: 200, version: '1.1', message: 'old' }), { version: '1.0' });
  assert.deepEqual([plain.version, plain.message, plain.headers['Content-Length']], ['1.0', 'old', '3']);
  const streamed = await invoke(answer(Readable.from(['a', 'b'])), { version: '1.0' });
  assert.deepEqual([streamed.version, streamed.message, streamed.headers['Transfer-Encoding']], ['1.0', 'ab', undefined]);
});

// Errors.

test('HttpError chooses the status and shows its message; 4xx are not reported', async () => {
  const { errors, onError } = errorSink();
  const response = await invoke(() => { throw new HttpError(404, 'No such item', { headers: { 'X-Why': 'gone' } }); }, {}, { onError });
  assert.deepEqual([response.statuscode, response.message, response.headers['X-Why']], [404, 'No such item\n', 'gone']);
  assert.ok(response.error instanceof HttpError);
  const rejected = await invoke(async () => { throw Object.assign(new Error('teapot'), { status: 418 }); }, {}, { onError });
  assert.deepEqual([rejected.statuscode, rejected.message], [418, "I'm a Teapot\n"]);
  assert.equal(errors.length, 0);
});

test('any other throw is a generic 500 with the cause in error, reported once to onError', async () => {
  const { errors, onError } = errorSink();
  const bug = new Error('secret detail');
  const response = await invoke(() => { throw bug; }, {}, { onError });
  assert.deepEqual([response.statuscode, response.message], [500, 'Internal Server Error\n']);
  assert.equal(response.error, bug);
  assert.deepEqual(errors, [bug]);
  const odd = await invoke(async () => { throw 'a string'; }, {}, { onError });
  assert.equal(odd.statuscode, 500);
  assert.equal(odd.error?.message, 'Non-error value thrown: a string');
});

test('exposeErrors shows the error and its stack in the 500 body', async () => {
  const response = await invoke(() => { throw new Error('shown'); }, {}, { exposeErrors: true, onError: errorSink().onError });
  assert.equal(response.statuscode, 500);
  assert.match(response.message, /^Error: shown\n\s+at /);
});

test('an invalid response is a 500 whose error names the field', async () => {
  const { errors, onError } = errorSink();
  const misspelt = await invoke(() => ({ statusCode: 200 }) as never, {}, { onError });
  assert.equal(misspelt.statuscode, 500);
  assert.equal(misspelt.error?.name, 'ResponseError');
  assert.match(String(misspelt.error?.message), /unknown field "statusCode". Did you mean "statuscode"\?/);
  const header = await invoke(() => ({ statuscode: 200, headers: { 'X-Bad': 'a\nb' } }), {}, { onError });
  assert.match(String(header.error?.message), /"X-Bad" must not contain CR, LF/);
  assert.equal((errors[1] as Error & { code?: string }).code, 'ERR_INVALID_RESPONSE');
});

test('callbackTimeout: 503, request.signal aborted, the late answer released', async () => {
  const { errors, onError } = errorSink();
  let signal: AbortSignal | undefined;
  let released = false;
  const late = new Readable({ read() {}, destroy(error, done) { released = true; done(error); } });
  const response = await invoke(async (request) => {
    signal = request.signal;
    await sleep(200);
    return { statuscode: 200, message: late };
  }, {}, { callbackTimeout: 30, onError });
  assert.equal(response.statuscode, 503);
  assert.equal((response.error as Error & { code?: string }).code, 'ERR_CALLBACK_TIMEOUT');
  assert.equal(signal?.aborted, true);
  assert.equal(errors.length, 1);
  await sleep(250);
  assert.equal(released, true);
});

test('without onError, a failure is one line on stderr naming the request', async (t) => {
  const lines = captureStderr(t);
  await invoke(() => { throw new Error('kaput'); }, { verb: 'POST', path: '/x?y', httpdid: 7 });
  assert.deepEqual(lines, ['seattle-httpserver [httpdid 7] POST /x: Error: kaput\n']);
});

test('a body that fails midway, or breaks its Content-Length, rejects invoke and is reported', async () => {
  const { errors, onError } = errorSink();
  let signal: AbortSignal | undefined;
  async function* failing() { yield 'a'; throw new Error('disk gone'); }
  await assert.rejects(invoke((r) => { signal = r.signal; return { statuscode: 200, message: failing() }; }, {}, { onError }), /disk gone/);
  assert.equal(signal?.aborted, true);
  await assert.rejects(invoke(answer(Readable.from(['abc']), { 'Content-Length': '5' }), {}, { onError }),
    /The body ended after 3 of its Content-Length \(5 bytes\)/);
  await assert.rejects(invoke(answer(Readable.from(['abcdef']), { 'Content-Length': '5' }), {}, { onError }),
    /longer than its Content-Length/);
  assert.equal(errors.length, 3);
  const fits = await invoke(answer(Readable.from(['abc']), { 'Content-Length': '3' }));
  assert.deepEqual([fits.message, fits.headers['Content-Length'], fits.headers['Transfer-Encoding']], ['abc', '3', undefined]);
});

// Options.

test('the headers and cors options apply as on the server; preflights never reach the callback', async () => {
  let calls = 0;
  const callback: Callback = () => { calls += 1; return { statuscode: 200, headers: { 'x-own': 'callback' }, message: 'hi' }; };
  const options = { headers: { 'X-Own': 'default', 'X-Frame-Options': 'DENY' }, cors: 'auto' as const };
  const plain = await invoke(callback, {}, options);
  assert.deepEqual(plain.headers, {
    'X-Frame-Options': 'DENY', 'x-own': 'callback', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '2',
  });
  const cross = await invoke(callback, { headers: { Origin: 'https://a.example' } }, options);
  assert.equal(cross.headers['Access-Control-Allow-Origin'], '*');
  const failed = await invoke(() => { throw new HttpError(403); }, { headers: { Origin: 'https://a.example' } }, options);
  assert.deepEqual([failed.statuscode, failed.headers['X-Frame-Options'], failed.headers['Access-Control-Allow-Origin']], [403, 'DENY', '*']);
  const preflight = await invoke(callback, {
    verb: 'OPTIONS', headers: { Origin: 'https://a.example', 'Access-Control-Request-Method': 'PUT' },
  }, options);
  assert.equal(preflight.statuscode, 204);
  assert.equal(preflight.headers['Access-Control-Allow-Methods'], 'PUT');
  assert.equal(calls, 2);
});

test('invoke leaves nothing behind: no timer, and an unread body is released', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
  const before = timers();
  let finished = false;
  async function* upload() {
    try { for (let i = 0; i < 1000; i++) yield 'x'.repeat(1000); } finally { finished = true; }
  }
  const response = await invoke(async (r) => { await r.datastream.read(10); return { statuscode: 200, message: 'partial' }; },
    { verb: 'POST', datastream: upload() });
  assert.equal(response.message, 'partial');
  assert.equal(timers(), before, 'the callbackTimeout timer is cleared');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(finished, true, 'the unread upload was closed');
});

// Parity with a real server.

interface Ask { method?: string; version?: '1.0' | '1.1'; headers?: Record<string, string>; body?: string }

/** Asks a real server and `invoke` the same thing, and checks that both answer alike (but for Date, Connection, Keep-Alive). */
async function assertSameAnswer(port: number, callback: Callback, options: ServerOptions, target: string, how: Ask): Promise<void> {
  const wire = await ask(port, target, how);
  const local = await invoke(callback, {
    verb: how.method ?? 'GET', path: target, version: how.version ?? '1.1',
    headers: {
      Host: '127.0.0.1', Connection: 'close', ...how.headers,
      ...(how.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(how.body)) }),
    },
    ...(how.body === undefined ? {} : { datastream: how.body }),
  }, options);
  const what = `${how.method ?? 'GET'} ${target} ${JSON.stringify(how)}`;
  assert.equal(`HTTP/${local.version} ${local.statuscode} ${local.statusmsg}`, wire.statusLine, what);
  const localHeaders = Object.fromEntries(Object.entries(local.headers)
    .map(([name, value]) => [name.toLowerCase(), Array.isArray(value) ? value.at(-1) : value]));
  const ignored = new Set(['date', 'connection', 'keep-alive']);
  const wireHeaders = Object.fromEntries(Object.entries(wire.headers).filter(([name]) => !ignored.has(name)));
  assert.deepEqual(localHeaders, wireHeaders, what);
  const body = wire.headers['transfer-encoding'] === 'chunked' ? decodeChunked(wire.body).body : wire.body;
  assert.equal(local.body.toString('latin1'), body, what);
}

test('invoke and a real server give the same status, headers and body for the same callback', async (t) => {
  const callback: Callback = async (request): Promise<HttpResponse> => {
    switch (request.path) {
      case '/echo': return { statuscode: 200, message: JSON.stringify({ ...request, datastream: await request.datastream.text(), httpdid: 0, remoteportnum: 0 }) };
      case '/stream': return { statuscode: 200, headers: { 'Content-Type': 'text/csv' }, message: Readable.from(['a,b\n', '1,2\n']) };
      case '/missing': throw new HttpError(404, 'not here', { headers: { 'X-Why': 'gone' } });
      case '/bug': throw new Error('bug');
      case '/invalid': return { statuscode: 99 };
      case '/empty': return { statuscode: 204, headers: { Connection: 'close' } };
      default: return { statuscode: 200, headers: { 'Set-Cookie': ['a=1', 'b=2'] }, message: 'plain' };
    }
  };
  const options = { headers: { 'X-Default': 'yes' }, cors: 'on' as const, onError: errorSink().onError };
  const { port } = await serve(t, callback, options);
  const asks: Array<[string, Ask]> = [
    ['/', {}], ['/', { method: 'HEAD' }], ['/echo?a=1&b', { method: 'POST', body: 'sent', headers: { 'X-Mixed-Case': 'v' } }],
    ['/stream', {}], ['/stream', { version: '1.0' }], ['/stream', { method: 'HEAD' }], ['/missing', {}], ['/bug', {}],
    ['/invalid', {}], ['/empty', {}],
  ];
  for (const [target, how] of asks) await assertSameAnswer(port, callback, options, target, how);
});

test('invoke and a real server refuse the same request heads alike, without calling the callback', async (t) => {
  let calls = 0;
  const callback: Callback = () => { calls += 1; return { statuscode: 200, message: 'called' }; };
  const options = { maxHeaderCount: 6, cors: 'auto' as const, onError: errorSink().onError };
  const { port } = await serve(t, callback, options);
  const asks: Array<[string, Ask]> = [
    ['/', { method: 'get' }],
    ['/', { method: 'CONNECT' }],
    ['/', { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: 'abc' }],
    ['/', { headers: { 'Transfer-Encoding': 'gzip' } }],
    ['/', { version: '1.0', headers: { 'Transfer-Encoding': 'chunked' } }],
    ['/', { headers: { A: '1', B: '2', C: '3', D: '4', E: '5' } }],
    ['/', { method: 'OPTIONS', headers: { Origin: 'https://a.example', 'Access-Control-Request-Method': 'PUT' } }],
  ];
  for (const [target, how] of asks) await assertSameAnswer(port, callback, options, target, how);
  assert.equal(calls, 0);
});

test('response headers are looked up case-insensitively, like request.headers, and listed as spelled', async () => {
  const response = await invoke(() => ({ statuscode: 200, headers: { 'X-Custom': 'yes', 'Set-Cookie': ['a=1', 'b=2'] }, message: 'hi' }));
  assert.equal(response.headers['x-custom'], 'yes');
  assert.equal(response.headers['CONTENT-TYPE'], 'text/plain; charset=utf-8');
  assert.deepEqual(response.headers['set-cookie'], ['a=1', 'b=2']);
  assert.deepEqual(Object.keys(response.headers), ['X-Custom', 'Set-Cookie', 'Content-Type', 'Content-Length']);
  assert.equal('content-length' in response.headers, true);
  assert.equal(response.headers['x-missing'], undefined);
});
