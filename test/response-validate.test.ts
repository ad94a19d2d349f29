import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Callback, HttpRequest, HttpResponse } from '../lib/index.js';
import { prepareResponse, type ResponseContext } from '../lib/response-validate.js';
import { ask, captureStderr, connectRaw, serve, statusLines } from './support.js';

/** Collects what onError receives, with the request it was reported for. */
function reports() {
  const seen: Array<{ error: Error; request: HttpRequest | undefined }> = [];
  return { seen, onError: (error: Error, request?: HttpRequest) => { seen.push({ error, request }); } };
}

/** Answers /good with 200 'fine' and everything else with what `make()` builds. */
function badAt(make: () => unknown): Callback {
  return (request) => (request.path === '/good'
    ? { statuscode: 200, message: 'fine' }
    : make() as HttpResponse);
}

interface Case {
  name: string;
  make: () => unknown;
  /** What the onError message must say: it names the offending field. */
  reason: RegExp;
}

const LEAK = 'LEAKED-BODY';

const cases: Case[] = [
  { name: 'undefined', make: () => undefined, reason: /response object.*Received undefined/ },
  { name: 'null', make: () => null, reason: /response object.*Received null/ },
  { name: 'a string', make: () => LEAK, reason: /response object.*Received type string/ },
  { name: 'an array', make: () => [200, LEAK], reason: /response object.*Received an array/ },
  { name: 'a number', make: () => 200, reason: /response object.*Received type number \(200\)/ },
  { name: 'missing statuscode', make: () => ({ headers: { 'X-Leak': 'yes' }, message: LEAK }), reason: /no "statuscode"/ },
  { name: 'statuscode not an integer', make: () => ({ statuscode: 200.5, message: LEAK }), reason: /"statuscode" must be an integer.*200\.5/ },
  { name: 'statuscode NaN', make: () => ({ statuscode: Number.NaN, message: LEAK }), reason: /"statuscode".*NaN/ },
  { name: 'statuscode 1xx', make: () => ({ statuscode: 101, message: LEAK }), reason: /"statuscode".*1xx is not a final status/ },
  { name: 'statuscode 600', make: () => ({ statuscode: 600, message: LEAK }), reason: /"statuscode" must be an integer from 200 to 599.*600/ },
  { name: 'statuscode as the string "200"', make: () => ({ statuscode: '200', message: LEAK }), reason: /"statuscode".*type string \("200"\)/ },
  { name: 'statusmsg with CR LF', make: () => ({ statuscode: 200, statusmsg: 'OK\r\nX-Injected: 1', message: LEAK }), reason: /"statusmsg".*CR, LF, NUL/ },
  { name: 'statusmsg with LF', make: () => ({ statuscode: 200, statusmsg: 'OK\nX-Injected: 1', message: LEAK }), reason: /"statusmsg".*CR, LF, NUL/ },
  { name: 'statusmsg with NUL', make: () => ({ statuscode: 200, statusmsg: 'OK\0X-Injected', message: LEAK }), reason: /"statusmsg".*CR, LF, NUL/ },
  { name: 'statusmsg not a string', make: () => ({ statuscode: 200, statusmsg: 42, message: LEAK }), reason: /"statusmsg" must be a string.*42/ },
  { name: 'header value with CR LF', make: () => ({ statuscode: 200, headers: { 'X-Test': 'a\r\nX-Injected: 1' }, message: LEAK }), reason: /header "X-Test".*CR, LF, NUL/ },
  { name: 'header value with LF', make: () => ({ statuscode: 200, headers: { 'X-Test': 'a\nX-Injected: 1' }, message: LEAK }), reason: /header "X-Test".*CR, LF, NUL/ },
  { name: 'header value with NUL', make: () => ({ statuscode: 200, headers: { 'X-Test': 'a\0X-Injected' }, message: LEAK }), reason: /header "X-Test".*CR, LF, NUL/ },
  { name: 'header value array with CR LF', make: () => ({ statuscode: 200, headers: { 'Set-Cookie': ['a=1', 'b=2\r\nX-Injected: 1'] }, message: LEAK }), reason: /header "Set-Cookie".*CR, LF, NUL/ },
  { name: 'header name with a space', make: () => ({ statuscode: 200, headers: { 'X Bad': 'v' }, message: LEAK }), reason: /header name "X Bad" is not a valid HTTP token/ },
  { name: 'header name with a colon', make: () => ({ statuscode: 200, headers: { 'X-Injected: 1\r\nX': 'v' }, message: LEAK }), reason: /header name .*X-Injected.* is not a valid HTTP token/ },
  { name: 'empty header name', make: () => ({ statuscode: 200, headers: { '': 'v' }, message: LEAK }), reason: /header name "" is not a valid HTTP token/ },
  { name: 'header value an object', make: () => ({ statuscode: 200, headers: { 'X-Test': { a: 1 } }, message: LEAK }), reason: /header "X-Test" must be a string.*Received an object/ },
  { name: 'header value a boolean', make: () => ({ statuscode: 200, headers: { 'X-Test': true }, message: LEAK }), reason: /header "X-Test" must be a string.*boolean/ },
  { name: 'header value NaN', make: () => ({ statuscode: 200, headers: { 'X-Test': Number.NaN }, message: LEAK }), reason: /header "X-Test" must be a string, a finite number.*NaN/ },
  { name: 'header value an empty array', make: () => ({ statuscode: 200, headers: { 'X-Test': [] }, message: LEAK }), reason: /header "X-Test" is an empty array/ },
  { name: 'headers not an object', make: () => ({ statuscode: 200, headers: 'X-Test: 1', message: LEAK }), reason: /"headers" must be an object/ },
  { name: 'Content-Length longer than the string body', make: () => ({ statuscode: 200, headers: { 'Content-Length': 100 }, message: LEAK }), reason: /"Content-Length" \(100\) disagrees with the message, which is 11 bytes/ },
  { name: 'Content-Length shorter than the string body', make: () => ({ statuscode: 200, headers: { 'content-length': '3' }, message: LEAK }), reason: /"Content-Length" \(3\) disagrees/ },
  { name: 'Content-Length counted in characters, not bytes', make: () => ({ statuscode: 200, headers: { 'Content-Length': 4 }, message: 'héé!' }), reason: /"Content-Length" \(4\) disagrees with the message, which is 6 bytes/ },
  { name: 'Content-Length with no body', make: () => ({ statuscode: 200, headers: { 'Content-Length': 5 } }), reason: /"Content-Length" \(5\) disagrees with the message, which is 0 bytes/ },
  { name: 'Content-Length not a number', make: () => ({ statuscode: 200, headers: { 'Content-Length': 'eleven' }, message: LEAK }), reason: /"Content-Length" must be a non-negative integer.*eleven/ },
  { name: 'Content-Length negative', make: () => ({ statuscode: 200, headers: { 'Content-Length': -1 }, message: LEAK }), reason: /"Content-Length" must be a non-negative integer.*-1/ },
  { name: 'Content-Length 1e1', make: () => ({ statuscode: 200, headers: { 'Content-Length': '1e1' }, message: LEAK }), reason: /"Content-Length" must be a non-negative integer/ },
  { name: "version '2.0'", make: () => ({ statuscode: 200, version: '2.0', message: LEAK }), reason: /"version" must be one of '0\.9', '1\.0', '1\.1'.*"2\.0"/ },
  { name: 'version 1.1 as a number', make: () => ({ statuscode: 200, version: 1.1, message: LEAK }), reason: /"version" must be one of.*type number \(1\.1\)/ },
  { name: 'unknown key statusCode', make: () => ({ statusCode: 200, message: LEAK }), reason: /unknown field "statusCode"\. Did you mean "statuscode"\?/ },
  { name: 'unknown key body', make: () => ({ statuscode: 200, body: LEAK }), reason: /unknown field "body"\. Did you mean "message"\?/ },
  { name: 'unknown key header', make: () => ({ statuscode: 200, header: { 'X-Leak': '1' }, message: LEAK }), reason: /unknown field "header"\. Did you mean "headers"\?/ },
  { name: 'message a number', make: () => ({ statuscode: 200, headers: { 'X-Leak': '1' }, message: 42 }), reason: /"message" must be a string, bytes, a stream.*type number \(42\)/ },
  { name: 'message a plain object', make: () => ({ statuscode: 200, headers: { 'X-Leak': '1' }, message: { leaked: LEAK } }), reason: /"message" must be.*an object.*json\(value\)/ },
  { name: 'message an array', make: () => ({ statuscode: 200, headers: { 'X-Leak': '1' }, message: [LEAK, LEAK] }), reason: /"message" must be.*an array.*join/ },
  { name: 'message a boolean', make: () => ({ statuscode: 200, message: true }), reason: /"message" must be.*type boolean/ },
];

for (const { name, make, reason } of cases) {
  test(`a response with ${name} is answered 500, reported, and never reaches the wire`, async (t) => {
    const sink = reports();
    const { port } = await serve(t, badAt(make), { onError: sink.onError });

    const answer = await ask(port, '/bad');
    assert.equal(answer.status, 500, answer.raw);
    assert.equal(answer.statusLine, 'HTTP/1.1 500 Internal Server Error');
    assert.equal(answer.body, 'Internal Server Error\n');
    assert.equal(answer.headers['content-length'], String('Internal Server Error\n'.length));
    assert.equal(answer.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(statusLines(answer.raw).length, 1);
    for (const leak of [LEAK, 'X-Injected', 'X-Leak', 'X-Test', 'X Bad', 'Set-Cookie', 'héé']) {
      assert.ok(!answer.raw.includes(leak), `${JSON.stringify(leak)} reached the wire:\n${answer.raw}`);
    }

    assert.equal(sink.seen.length, 1);
    const [{ error, request }] = sink.seen as [typeof sink.seen[0]];
    assert.equal(error.name, 'ResponseError');
    assert.equal((error as Error & { code?: string }).code, 'ERR_INVALID_RESPONSE');
    assert.match(error.message, reason);
    assert.equal(request?.path, '/bad');

    const good = await ask(port, '/good');
    assert.equal(good.status, 200);
    assert.equal(good.body, 'fine');
    assert.equal(sink.seen.length, 1);
  });
}

test('a rejected response keeps a keep-alive connection usable: 500, then the next request gets 200', async (t) => {
  const sink = reports();
  const { port } = await serve(t, badAt(() => ({ statuscode: 200, headers: { 'X-Test': 'a\r\nX-Injected: 1' }, message: LEAK })), { onError: sink.onError });
  const connection = await connectRaw(t, port);
  connection.socket.write('GET /bad HTTP/1.1\r\nHost: x\r\n\r\nGET /good HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(await connection.waitFor(/\r\n\r\nfine$/), connection.text);
  assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 500 Internal Server Error', 'HTTP/1.1 200 OK']);
  assert.ok(!connection.text.includes('X-Injected'));
  assert.ok(!connection.text.includes(LEAK));
  assert.equal(connection.closed, false);
  assert.equal(sink.seen.length, 1);
});

test('an async callback resolving to a bad response is rejected the same way', async (t) => {
  const sink = reports();
  const { port } = await serve(t, async () => ({ statusCode: 200, message: LEAK }) as unknown as HttpResponse, { onError: sink.onError });
  const answer = await ask(port, '/');
  assert.equal(answer.status, 500);
  assert.equal(answer.body, 'Internal Server Error\n');
  assert.ok(!answer.raw.includes(LEAK));
  assert.equal(sink.seen.length, 1);
  assert.match(sink.seen[0]!.error.message, /Did you mean "statuscode"\?/);
});

for (const when of ['sync', 'async']) {
  test(`a ${when} response whose getters throw is answered 500, reported, and does not crash the listener`, async (t) => {
    const sink = reports();
    const responses: Record<string, () => unknown> = {
      '/getter': () => ({ statuscode: 200, get message() { throw new Error('message getter threw'); } }),
      '/proxy': () => new Proxy({}, { ownKeys() { throw new Error('ownKeys threw'); } }),
      '/everything': () => new Proxy({}, { get() { throw new Error('get threw'); } }),
    };
    const { port } = await serve(t, (request) => {
      if (request.path === '/good') return { statuscode: 200, message: 'fine' };
      const value = responses[request.path]!();
      return (when === 'sync' ? value : Promise.resolve().then(() => value)) as HttpResponse;
    }, { onError: sink.onError });
    for (const path of Object.keys(responses)) {
      const answer = await ask(port, path);
      assert.equal(answer.status, 500, path);
      assert.equal(answer.body, 'Internal Server Error\n');
    }
    assert.deepEqual(sink.seen.map(({ error }) => error.message), ['message getter threw', 'ownKeys threw', 'get threw']);
    const good = await ask(port, '/good');
    assert.equal(good.body, 'fine');
  });
}

test('a rejected response with a stream message releases the stream', async (t) => {
  const sink = reports();
  let destroyed = false;
  const { port } = await serve(t, () => {
    const stream = new Readable({ read() { this.push(LEAK); } });
    stream.on('close', () => { destroyed = true; });
    return { statuscode: 600, message: stream };
  }, { onError: sink.onError });
  const answer = await ask(port, '/');
  assert.equal(answer.status, 500);
  assert.ok(!answer.raw.includes(LEAK));
  assert.equal(destroyed, true);
  assert.equal(sink.seen.length, 1);
});

test('the reason goes to stderr when there is no onError', async (t) => {
  const lines = captureStderr(t);
  const { id, port } = await serve(t, () => ({ statuscode: 200, header: {} }) as unknown as HttpResponse);
  const answer = await ask(port, '/where');
  assert.equal(answer.status, 500);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, new RegExp(`^seattle-httpserver \\[httpdid ${id}\\] GET /where: ResponseError: .*"header"\\. Did you mean "headers"\\?.*\\n$`));
});

// prepareResponse on its own: the messages a beginner reads.

const context: ResponseContext = { requestVersion: '1.1', isHead: false, defaultHeaders: [] };

function rejects(value: unknown, message: RegExp, ctx: ResponseContext = context): void {
  assert.throws(() => prepareResponse(value, ctx), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ResponseError');
    assert.equal((error as Error & { code?: string }).code, 'ERR_INVALID_RESPONSE');
    assert.match(error.message, message);
    return true;
  });
}

test('prepareResponse: unknown fields get a did-you-mean hint and the list of allowed fields', () => {
  rejects({ statusCode: 200 }, /^The response has an unknown field "statusCode"\. Did you mean "statuscode"\? Allowed fields: statuscode, statusmsg, version, headers, message\.$/);
  rejects({ status: 200 }, /"status"\. Did you mean "statuscode"\?/);
  rejects({ statuscode: 200, stauscode: 1 }, /"stauscode"\. Did you mean "statuscode"\?/);
  rejects({ statuscode: 200, body: 'x' }, /"body"\. Did you mean "message"\?/);
  rejects({ statuscode: 200, header: {} }, /"header"\. Did you mean "headers"\?/);
  rejects({ statuscode: 200, statusMessage: 'x' }, /"statusMessage"\. Did you mean "statusmsg"\?/);
  rejects({ statuscode: 200, zzzzzzzzzzzz: 1 }, /^The response has an unknown field "zzzzzzzzzzzz"\. Allowed fields:/);
});

test('prepareResponse: the messages say what to do instead', () => {
  rejects(undefined, /such as \{ statuscode: 200, message: 'hello' \}/);
  rejects({}, /Add one, e\.g\. \{ statuscode: 200 \}/);
  rejects({ statuscode: 100 }, /1xx is not a final status/);
  rejects({ statuscode: 200, message: { a: 1 } }, /to send JSON, return json\(value\)/);
  rejects({ statuscode: 200, message: ['a', 'b'] }, /join the parts into one string/);
  rejects({ statuscode: 200, message: 42 }, /convert it with String\(\)/);
  rejects({ statuscode: 200, headers: { 'Content-Length': 1 }, message: 'ab' }, /Leave Content-Length out and it is computed for you/);
  rejects({ statuscode: 200, headers: { 'X-A': 'a\r\nb' } }, /Received "a\\r\\nb"/);
});

test('prepareResponse: a good string response gets the default status message and Content-Type', () => {
  const prepared = prepareResponse({ statuscode: 404, message: 'missing' }, context);
  assert.equal(prepared.status, 404);
  assert.equal(prepared.statusMessage, 'Not Found');
  assert.equal(prepared.version, '1.1');
  assert.deepEqual(prepared.headers, [['Content-Type', 'text/plain; charset=utf-8']]);
  assert.deepEqual(prepared.body, { kind: 'bytes', data: 'missing', length: 7 });
  assert.equal(prepared.close, false);
  assert.equal(prepared.declaredLength, undefined);
});

test('prepareResponse: a given Content-Type, statusmsg and Content-Length are kept; Connection: close becomes the close flag', () => {
  const prepared = prepareResponse({
    statuscode: 200, statusmsg: 'Fine Thanks',
    headers: { 'content-type': 'text/html', Connection: 'keep-alive, close', 'Content-Length': 2 },
    message: Buffer.from('hi'),
  }, context);
  assert.equal(prepared.statusMessage, 'Fine Thanks');
  assert.deepEqual(prepared.headers, [['content-type', 'text/html'], ['Content-Length', 2]]);
  assert.equal(prepared.close, true);
  assert.equal(prepared.declaredLength, 2);
  assert.equal(prepared.body.kind, 'bytes');
});

test('prepareResponse: hop-by-hop headers from the callback are dropped (the library manages the connection)', () => {
  const prepared = prepareResponse({
    statuscode: 200,
    headers: {
      Connection: 'keep-alive', 'Keep-Alive': 'timeout=999', 'Proxy-Connection': 'keep-alive', TE: 'trailers',
      Trailer: 'X-Sum', Upgrade: 'websocket', 'Transfer-Encoding': 'chunked', 'X-Kept': 'yes',
    },
    message: 'body',
  }, context);
  assert.deepEqual(prepared.headers.map(([name]) => name), ['X-Kept', 'Content-Type']);
  assert.equal(prepared.close, false);
});

test('prepareResponse: bytes get no default Content-Type; no message is an empty body', () => {
  assert.deepEqual(prepareResponse({ statuscode: 200, message: new Uint8Array([1, 2]) }, context).headers, []);
  assert.deepEqual(prepareResponse({ statuscode: 204 }, context).body, { kind: 'none' });
  assert.deepEqual(prepareResponse({ statuscode: 200, message: null }, context).body, { kind: 'none' });
});

test('prepareResponse: the version defaults to the request and never goes above it', () => {
  assert.equal(prepareResponse({ statuscode: 200 }, { ...context, requestVersion: '1.0' }).version, '1.0');
  assert.equal(prepareResponse({ statuscode: 200, version: '1.1' }, { ...context, requestVersion: '1.0' }).version, '1.0');
  assert.equal(prepareResponse({ statuscode: 200, version: '1.0' }, context).version, '1.0');
  assert.equal(prepareResponse({ statuscode: 200, version: '0.9' }, context).version, '0.9');
  assert.equal(prepareResponse({ statuscode: 200 }, { ...context, requestVersion: '2.0' }).version, '1.1');
});

test('prepareResponse: default headers are merged, the callback wins case-insensitively, Transfer-Encoding is dropped', () => {
  const prepared = prepareResponse({
    statuscode: 200,
    headers: { 'x-powered-by': 'me', 'Transfer-Encoding': 'gzip, chunked', 'Set-Cookie': ['a=1', 'b=2'] },
    message: Buffer.from('x'),
  }, { ...context, defaultHeaders: [['X-Powered-By', 'lib'], ['X-Frame-Options', 'DENY']] });
  assert.deepEqual(prepared.headers, [['X-Frame-Options', 'DENY'], ['x-powered-by', 'me'], ['Set-Cookie', ['a=1', 'b=2']]]);
});

test('prepareResponse: a bodiless HEAD answer or a 304 may state the length of the body it stands for', () => {
  const head = prepareResponse({ statuscode: 200, headers: { 'Content-Length': 1234 } }, { ...context, isHead: true });
  assert.equal(head.declaredLength, 1234);
  const notModified = prepareResponse({ statuscode: 304, headers: { 'Content-Length': 99 } }, context);
  assert.equal(notModified.declaredLength, 99);
  rejects({ statuscode: 200, headers: { 'Content-Length': 1234 } }, /disagrees/);
});

test('prepareResponse: stream bodies of every kind are accepted as streams', () => {
  const kinds: unknown[] = [
    Readable.from(['a']),
    new ReadableStream(),
    (async function* () { yield 'a'; })(),
    { read: () => '' },
  ];
  for (const message of kinds) {
    const prepared = prepareResponse({ statuscode: 200, message }, context);
    assert.equal(prepared.body.kind, 'stream');
    assert.deepEqual(prepared.headers, []);
  }
});
