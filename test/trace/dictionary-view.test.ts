/**
 * The `trace` option's dictionary view: each request dictionary as the
 * callback received it and each response as the callback returned it,
 * checked as text against real servers; and the option's validation.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { test } from 'node:test';
import { HttpError, registerCallback } from '../../lib/index.js';
import type { HttpRequest } from '../../lib/index.js';
import { resolveOptions } from '../../lib/options.js';
import { traceCallback } from '../../lib/trace/dictionary-view.js';
import { Transcript } from '../../lib/trace/transcript.js';
import { errorSink, rawRequest, parseRaw, serve } from '../support.js';
import { normalize, serveTraced } from './support.js';

test('a GET with a query: the request and response dictionaries, field by field', async (t) => {
  const served = await serveTraced(t, (request) => ({
    statuscode: 200,
    headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    message: `Hello, ${String(request.querydict.name)}!\n`,
  }));
  const { text } = await rawRequest(served.port,
    'GET /hello?name=Ada HTTP/1.1\r\nHost: localhost:8080\r\nAccept: */*\r\nConnection: close\r\n\r\n');
  assert.match(text, /Hello, Ada!/);
  assert.ok(await served.waitFor('── response 1'));
  assert.equal(normalize(served.output), [
    '── request 1 ── GET /hello?name=Ada from 127.0.0.1:PORT',
    '{',
    "  verb: 'GET',",
    "  path: '/hello',",
    "  querystr: 'name=Ada',",
    "  querydict: { name: 'Ada' },",
    "  version: '1.1',",
    '  datastream: <no body>,',
    "  headers: { Host: 'localhost:8080', Accept: '*/*', Connection: 'close' },",
    '  httpdid: ID,',
    "  remoteipstr: '127.0.0.1',",
    '  remoteportnum: PORT',
    '}',
    '── response 1 ── after N ms',
    '{',
    '  statuscode: 200,',
    "  headers: { 'Content-Type': 'text/plain; charset=utf-8' },",
    "  message: 'Hello, Ada!\\n'",
    '}',
    '',
  ].join('\n'));
  // The wire view is off unless asked for.
  assert.doesNotMatch(served.output, /^[<>] /m);

  await rawRequest(served.port, 'GET /again HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.ok(await served.waitFor('── response 2 ── after'), 'requests are numbered per listener');
  assert.match(served.output, /── request 2 ── GET \/again from 127\.0\.0\.1:\d+\n/);
  assert.match(served.output, /querystr: null,\n {2}querydict: \{\},/);
});

test('a Content-Length body is summed up, not read: the callback still reads all of it', async (t) => {
  const served = await serveTraced(t, async (request) => ({ statuscode: 200, message: `got ${await request.datastream.text()}` }));
  const { text } = await rawRequest(served.port,
    'POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\nConnection: close\r\n\r\nname=Ada');
  assert.equal(parseRaw(text).body, 'got name=Ada');
  assert.ok(await served.waitFor('── response 1'));
  assert.match(served.output, /\n {2}datastream: <body: 8 bytes, not read yet>,\n/);
  assert.match(served.output, /\n {2}message: 'got name=Ada'\n/);
});

test('a chunked body is summed up as of unknown length; the callback reads it whole', async (t) => {
  const served = await serveTraced(t, async (request) => ({ statuscode: 200, message: `got ${await request.datastream.text()}` }));
  const { text } = await rawRequest(served.port,
    'POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
  assert.equal(parseRaw(text).body, 'got hello world');
  assert.ok(await served.waitFor('── response 1'));
  assert.match(served.output, /\n {2}datastream: <body: chunked, length unknown, not read yet>,\n/);
});

test('tracing reads nothing of the body: a refusal without reading never asks for 100 Continue', async (t) => {
  const served = await serveTraced(t, () => ({ statuscode: 403, message: 'no uploads' }));
  const { text } = await rawRequest(served.port,
    'PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n', { idleMs: 300 });
  assert.doesNotMatch(text, /100 Continue/);
  assert.match(text, /^HTTP\/1\.1 403 /);
  assert.match(served.output, /datastream: <body: 5 bytes, not read yet>/);
});

test('a callback that throws or rejects: the trace says so, and the client still gets its answer', async (t) => {
  const { onError } = errorSink();
  const served = await serveTraced(t, (request) => {
    if (request.path === '/throw') throw new Error('boom');
    if (request.path === '/reject') return Promise.reject(new TypeError('bad'));
    if (request.path === '/http') throw new HttpError(404, 'nope');
    throw 'oops';
  }, {}, { onError });
  const answers = [];
  for (const path of ['/throw', '/reject', '/http', '/string']) {
    const { text } = await rawRequest(served.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    answers.push(parseRaw(text).status);
  }
  assert.deepEqual(answers, [500, 500, 404, 500]);
  assert.ok(await served.waitFor('── response 4'));
  const output = normalize(served.output);
  assert.match(output, /── response 1 ── after N ms\ncallback threw Error: boom\n/);
  assert.match(output, /── response 2 ── after N ms\ncallback rejected with TypeError: bad\n/);
  assert.match(output, /── response 3 ── after N ms\ncallback threw HttpError: nope \(status 404\)\n/);
  assert.match(output, /── response 4 ── after N ms\ncallback threw 'oops'\n/);
});

test('an invalid response is shown as it was returned, slips included', async (t) => {
  const { errors, onError } = errorSink();
  const served = await serveTraced(t, (request) => {
    if (request.path === '/slip') return { statusCode: 200, message: 'x' } as never;
    if (request.path === '/text') return 'hello' as never;
    return undefined as never;
  }, {}, { onError });
  for (const path of ['/slip', '/text', '/nothing']) {
    const { text } = await rawRequest(served.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(parseRaw(text).status, 500);
  }
  assert.ok(await served.waitFor('── response 3'));
  const output = normalize(served.output);
  assert.match(output, /── response 1 ── after N ms\n\{\n {2}statusCode: 200,\n {2}message: 'x'\n\}\n/);
  assert.match(output, /── response 2 ── after N ms\n'hello'\n/);
  assert.match(output, /── response 3 ── after N ms\nundefined\n/);
  assert.equal(errors.length, 3);
});

test('response messages are summed up by kind; long text is cut, long header values are not', async (t) => {
  const long = 'v'.repeat(500);
  const messages: Record<string, () => unknown> = {
    '/long': () => 'x'.repeat(1000),
    '/buffer': () => Buffer.alloc(1234),
    '/bytes': () => new Uint8Array(1),
    '/stream': () => Readable.from(['a']),
    '/web': () => new ReadableStream({ start(controller) { controller.close(); } }),
    '/iterable': () => (async function* () { yield 'a'; })(),
    '/file': () => ({ read: () => '' }),
  };
  const served = await serveTraced(t, (request) => ({
    statuscode: 200, headers: { 'X-Long': long }, message: messages[request.path]!() as string,
  }));
  for (const path of Object.keys(messages)) {
    const response = await fetch(`${served.url}${path}`);
    assert.equal(response.status, 200);
    await response.arrayBuffer();
  }
  assert.ok(await served.waitFor('── response 7'));
  const messageLines = served.output.split('\n').filter((line) => line.startsWith('  message: '));
  assert.deepEqual(messageLines, [
    `  message: '${'x'.repeat(300)}'... 700 more characters`,
    '  message: <Buffer: 1234 bytes>',
    '  message: <Uint8Array: 1 byte>',
    '  message: <stream>',
    '  message: <web stream>',
    '  message: <async iterable>',
    '  message: <file-like object>',
  ]);
  // Too long for one line, so spread out, but the value itself is never cut.
  assert.ok(served.output.includes(`  headers: {\n    'X-Long': '${long}'\n  },\n`));
});

test('a response field whose getter throws is shown as such, and the trace goes on', async (t) => {
  const { onError } = errorSink();
  const served = await serveTraced(t, () => ({
    statuscode: 200,
    get message(): string { throw new Error('getter'); },
  }), {}, { onError });
  const { text } = await rawRequest(served.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(parseRaw(text).status, 500);
  assert.ok(await served.waitFor('── response 1'));
  assert.match(served.output, /\n {2}message: <reading it threw Error: getter>\n/);
});

test('the wrapper keeps a synchronous callback synchronous and passes throws and rejections on unchanged', async () => {
  const blocks: string[] = [];
  const transcript = new Transcript({ wire: false, color: false, write: (text) => { blocks.push(text); } });
  const request = {
    verb: 'GET', path: '/', querystr: null, querydict: {}, version: '1.1', datastream: undefined,
    headers: {}, httpdid: 1, remoteipstr: '127.0.0.1', remoteportnum: 5,
  } as unknown as HttpRequest;
  const value = { statuscode: 200 };
  assert.equal(traceCallback(() => value, transcript)(request), value, 'the very value, not a promise');
  const thrown = { not: 'an error' };
  assert.throws(() => traceCallback(() => { throw thrown; }, transcript)(request), (error) => error === thrown);
  const promised = traceCallback(async () => value, transcript)(request);
  assert.ok(promised instanceof Promise);
  assert.equal(await promised, value);
  const rejection = new Error('later');
  await assert.rejects(Promise.resolve(traceCallback(() => Promise.reject(rejection), transcript)(request)), (error) => error === rejection);
  assert.equal(blocks.length, 8);
  assert.match(blocks[7]!, /^── response 4 ── after \d+ ms\ncallback rejected with Error: later\n$/);
});

test('an output that throws never breaks serving', async (t) => {
  const served = await serve(t, async (request) => ({ statuscode: 200, message: `ok ${request.path}` }), {
    trace: { wire: true, output: () => { throw new Error('terminal gone'); } },
  });
  const response = await fetch(`${served.url}/a`);
  assert.equal(await response.text(), 'ok /a');
});

test('colour: on when asked, off by default for a function, as the stream says for a stream', async (t) => {
  const coloured = await serveTraced(t, () => ({ statuscode: 200, message: 'hi' }), { color: true });
  await (await fetch(coloured.url)).text();
  assert.ok(await coloured.waitFor('response 1'));
  assert.ok(coloured.output.includes('\x1b[2m──\x1b[22m \x1b[1mrequest 1\x1b[22m'), 'a dim rule and a bold label');
  assert.ok(coloured.output.includes("verb: \x1b[32m'GET'\x1b[39m"), "util.inspect's colours");

  const plain = await serveTraced(t, () => ({ statuscode: 200, message: 'hi' }));
  await (await fetch(plain.url)).text();
  assert.ok(await plain.waitFor('response 1'));
  assert.doesNotMatch(plain.output, /\x1b/);

  for (const colors of [true, false]) {
    const chunks: string[] = [];
    const stream = Object.assign(
      new Writable({ write(chunk: Buffer, _encoding, done) { chunks.push(chunk.toString()); done(); } }),
      { hasColors: () => colors },
    );
    const served = await serve(t, () => ({ statuscode: 200, message: 'hi' }), { trace: { output: stream } });
    await (await fetch(served.url)).text();
    assert.match(chunks.join(''), /response 1/);
    assert.equal(chunks.join('').includes('\x1b['), colors, `hasColors() says ${colors}`);
  }
});

test('without an output, the trace goes to stderr', async (t) => {
  const printed: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => { printed.push(String(chunk)); return true; }) as typeof process.stderr.write;
  t.after(() => { process.stderr.write = write; });
  const served = await serve(t, () => ({ statuscode: 200, message: 'hi' }), { trace: { color: false } });
  await (await fetch(`${served.url}/seen`)).text();
  process.stderr.write = write;
  assert.match(printed.join(''), /── request 1 ── GET \/seen from 127\.0\.0\.1:\d+\n/);
});

test('trace off: nothing is printed, and the callback answers as usual', async (t) => {
  assert.equal(resolveOptions({}).trace, undefined);
  assert.equal(resolveOptions({ trace: false }).trace, undefined);
  const printed: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => { printed.push(String(chunk)); return true; }) as typeof process.stderr.write;
  t.after(() => { process.stderr.write = write; });
  const seen: unknown[] = [];
  const callback = function answer(this: unknown, ...args: unknown[]) {
    seen.push(args.length);
    return { statuscode: 200, message: 'plain' };
  };
  const served = await serve(t, callback as never, { trace: false });
  assert.equal(await (await fetch(served.url)).text(), 'plain');
  process.stderr.write = write;
  assert.deepEqual(seen, [1]);
  assert.deepEqual(printed, []);
});

test('trace option: shorthands resolve, mistakes are refused with stable codes and hints', async () => {
  assert.deepEqual({ ...resolveOptions({ trace: true }).trace, write: undefined }, { wire: false, color: false, write: undefined });
  assert.equal(resolveOptions({ trace: 'wire' }).trace?.wire, true);
  const output = () => {};
  const settings = resolveOptions({ trace: { wire: true, output, color: true } }).trace!;
  assert.equal(settings.write, output);
  assert.equal(settings.color, true);
  assert.equal(resolveOptions({ trace: { output } }).trace?.color, false);

  const refusals: Array<[unknown, string, string | RegExp]> = [
    ['wires', 'ERR_INVALID_ARG_VALUE',
      `The "options.trace" option must be true, false, 'wire' or an object. Received 'wires'. Did you mean 'wire'?`],
    [1, 'ERR_INVALID_ARG_TYPE', `The "options.trace" option must be a boolean, 'wire' or an object. Received type number (1)`],
    [['wire'], 'ERR_INVALID_ARG_TYPE', /must be a boolean, 'wire' or an object\. Received an array of length 1$/],
    [{ colour: true }, 'ERR_INVALID_ARG_VALUE', 'The "options.trace" object has an unknown option "colour". Did you mean "color"?'],
    [{ wire: 'yes' }, 'ERR_INVALID_ARG_TYPE', /^The "options\.trace\.wire" argument must be of type boolean\. Received type string/],
    [{ color: 1 }, 'ERR_INVALID_ARG_TYPE', /^The "options\.trace\.color" argument must be of type boolean/],
    [{ output: 5 }, 'ERR_INVALID_ARG_TYPE', 'The "options.trace.output" option must be a writable stream or a function. Received type number (5)'],
    [{ output: {} }, 'ERR_INVALID_ARG_TYPE', /^The "options\.trace\.output" option must be a writable stream or a function\. Received an object$/],
  ];
  for (const [trace, code, message] of refusals) {
    assert.throws(() => resolveOptions({ trace }), (error: Error & { code?: string }) => {
      assert.equal(error.code, code, `code for ${JSON.stringify(trace)}`);
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    });
  }
  await assert.rejects(registerCallback(['127.0.0.1', 0], () => ({ statuscode: 200 }), { trace: 'Wire' as never }),
    { name: 'ValueError', code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => resolveOptions({ trcae: true }), { message: /Did you mean "trace"\?/ });
});

test('a dictionary field too long for an 80-column line is spread over lines under its key', async (t) => {
  const served = await serveTraced(t, () => ({
    statuscode: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', Vary: 'Accept' }, message: 'ok',
  }));
  await (await fetch(`${served.url}/x?tag=a&tag=b`)).text();
  assert.ok(await served.waitFor('── response 1'));
  assert.ok(served.output.includes("  querydict: { tag: [ 'a', 'b' ] },\n"), 'a short one stays on its line');
  assert.ok(served.output.includes([
    '  headers: {',
    "    'Content-Type': 'text/plain; charset=utf-8',",
    "    'Cache-Control': 'no-store',",
    "    Vary: 'Accept'",
    '  },',
  ].join('\n')), served.output);
});
