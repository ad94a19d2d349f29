import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { HttpError } from '../lib/index.js';
import type { Callback, HttpResponse, LogEntry } from '../lib/index.js';
import { ask, connectRaw, errorSink, serve, sleep, statusLines } from './support.js';

const hello: Callback = () => ({ statuscode: 200, message: 'hello' });

/** Routes used by the CORS and log tests: every way a response can be made. */
const routes: Callback = (request) => {
  if (request.path === '/missing') throw new HttpError(404, 'nope');
  if (request.path === '/broken') throw new Error('bug');
  if (request.path === '/invalid') return { statuscode: 99 };
  if (request.path === '/stream') return { statuscode: 200, message: Readable.from(['ab', 'cd']) };
  if (request.path === '/own') return { statuscode: 200, headers: { 'access-control-allow-origin': 'https://a.example' }, message: 'own' };
  return { statuscode: 200, message: 'hello' };
};

const ACAO = /\r\nAccess-Control-Allow-Origin: \*\r\n/i;
const ANY_ACAO = /access-control-allow-origin/i;

// cors

test("cors 'off' (the default) sends no CORS header, even when the request has Origin", async (t) => {
  for (const options of [{}, { cors: 'off' as const }]) {
    const { port } = await serve(t, routes, { ...options, onError: errorSink().onError });
    const reply = await ask(port, '/', { headers: { Origin: 'https://a.example' } });
    assert.equal(reply.status, 200);
    assert.ok(!ANY_ACAO.test(reply.raw), reply.raw);
  }
});

test("cors 'on' adds Access-Control-Allow-Origin: * to every response", async (t) => {
  const { port } = await serve(t, routes, { cors: 'on', onError: errorSink().onError });
  const asks: Array<[string, Parameters<typeof ask>[2], number]> = [
    ['/', {}, 200],
    ['/', { headers: { Origin: 'https://a.example' } }, 200],
    ['/missing', {}, 404],
    ['/broken', {}, 500],
    ['/invalid', {}, 500],
    ['/stream', {}, 200],
    ['/', { method: 'HEAD' }, 200],
    ['/', { version: '1.0' }, 200],
    ['/stream', { version: '1.0' }, 200],
  ];
  for (const [path, options, status] of asks) {
    const reply = await ask(port, path, options);
    assert.equal(reply.status, status, `${path} ${JSON.stringify(options)}`);
    assert.match(reply.raw, ACAO, `${path} ${JSON.stringify(options)}:\n${reply.raw}`);
    assert.equal((reply.raw.match(/access-control-allow-origin/gi) ?? []).length, 1);
  }
});

test("cors 'on': the callback's own Access-Control-Allow-Origin wins", async (t) => {
  const { port } = await serve(t, routes, { cors: 'on', onError: errorSink().onError });
  const reply = await ask(port, '/own', { headers: { Origin: 'https://a.example' } });
  assert.match(reply.raw, /\r\naccess-control-allow-origin: https:\/\/a\.example\r\n/);
  assert.equal((reply.raw.match(/access-control-allow-origin/gi) ?? []).length, 1);
});

test("cors 'auto' adds the header only when the request has Origin", async (t) => {
  const { port } = await serve(t, routes, { cors: 'auto', onError: errorSink().onError });
  const plain = await ask(port, '/');
  assert.equal(plain.status, 200);
  assert.ok(!ANY_ACAO.test(plain.raw), plain.raw);
  for (const path of ['/', '/missing', '/invalid', '/stream']) {
    const reply = await ask(port, path, { headers: { Origin: 'https://a.example' } });
    assert.match(reply.raw, ACAO, `${path}:\n${reply.raw}`);
  }
  const failed = await ask(port, '/missing');
  assert.equal(failed.status, 404);
  assert.ok(!ANY_ACAO.test(failed.raw));
});

for (const cors of ['on', 'auto'] as const) {
  test(`cors '${cors}': a preflight is answered 204 without calling the callback`, async (t) => {
    let calls = 0;
    const { port } = await serve(t, (request) => { calls += 1; return hello(request); }, { cors, onError: errorSink().onError });
    const connection = await connectRaw(t, port);
    connection.socket.write(
      'OPTIONS /api/items HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n' +
      'Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: x-token, content-type\r\n\r\n' +
      'GET /after HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    assert.ok(await connection.waitFor(/\r\n\r\nhello$/), connection.text);
    const [preflight] = connection.text.split(/(?=HTTP\/1\.1 200)/);
    assert.match(preflight!, /^HTTP\/1\.1 204 No Content\r\n/);
    assert.match(preflight!, ACAO);
    assert.match(preflight!, /\r\nAccess-Control-Allow-Methods: PUT\r\n/i);
    assert.match(preflight!, /\r\nAccess-Control-Allow-Headers: x-token, content-type\r\n/i);
    assert.match(preflight!, /\r\nAccess-Control-Max-Age: \d+\r\n/i);
    assert.match(preflight!, /\r\n\r\n$/);
    assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 204 No Content', 'HTTP/1.1 200 OK']);
    assert.equal(calls, 1, 'the callback saw the preflight');
  });
}

test('an OPTIONS request that is not a preflight goes to the callback', async (t) => {
  const seen: string[] = [];
  const callback: Callback = (request) => { seen.push(request.verb); return { statuscode: 200, headers: { Allow: 'GET, OPTIONS' } }; };
  const on = await serve(t, callback, { cors: 'on', onError: errorSink().onError });
  const noMethod = await ask(on.port, '/', { method: 'OPTIONS', headers: { Origin: 'https://a.example' } });
  assert.equal(noMethod.status, 200);
  assert.match(noMethod.raw, /\r\nAllow: GET, OPTIONS\r\n/);
  const off = await serve(t, callback, { cors: 'off', onError: errorSink().onError });
  const preflightShaped = await ask(off.port, '/', { method: 'OPTIONS', headers: { Origin: 'https://a.example', 'Access-Control-Request-Method': 'PUT' } });
  assert.equal(preflightShaped.status, 200);
  assert.ok(!ANY_ACAO.test(preflightShaped.raw));
  assert.deepEqual(seen, ['OPTIONS', 'OPTIONS']);
});

// log

function logSink() {
  const lines: Array<{ line: string; entry: LogEntry }> = [];
  return { lines, log: (line: string, entry: LogEntry) => { lines.push({ line, entry }); } };
}

async function waitForLines(lines: unknown[], count: number): Promise<void> {
  for (let i = 0; i < 100 && lines.length < count; i++) await sleep(10);
}

test('log: a function receives one line per request with method, target, status and bytes', async (t) => {
  const { lines, log } = logSink();
  const { id, port } = await serve(t, routes, { log, onError: errorSink().onError });
  await ask(port, '/hello?x=1');
  await ask(port, '/missing');
  await ask(port, '/stream', { method: 'GET' });
  await ask(port, '/', { method: 'HEAD' });
  await ask(port, '/invalid', { version: '1.0' });
  await waitForLines(lines, 5);
  assert.equal(lines.length, 5);

  const [first, missing, stream, head, invalid] = lines;
  assert.match(first!.line, /^127\.0\.0\.1 \[\d{4}-\d\d-\d\dT[\d:.]+Z\] "GET \/hello\?x=1 HTTP\/1\.1" 200 5 \d+\.\dms$/);
  assert.equal(first!.entry.httpdid, id);
  assert.equal(first!.entry.remoteipstr, '127.0.0.1');
  assert.equal(first!.entry.verb, 'GET');
  assert.equal(first!.entry.target, '/hello?x=1');
  assert.equal(first!.entry.version, '1.1');
  assert.equal(first!.entry.statuscode, 200);
  assert.equal(first!.entry.bytes, 5);
  assert.ok(first!.entry.durationMs >= 0 && first!.entry.durationMs < 1000);

  assert.match(missing!.line, /"GET \/missing HTTP\/1\.1" 404 5 /);
  assert.deepEqual([missing!.entry.statuscode, missing!.entry.bytes], [404, 'nope\n'.length]);
  assert.match(stream!.line, /"GET \/stream HTTP\/1\.1" 200 4 /);
  assert.equal(stream!.entry.bytes, 4);
  assert.match(head!.line, /"HEAD \/ HTTP\/1\.1" 200 0 /);
  assert.equal(head!.entry.bytes, 0);
  assert.match(invalid!.line, /"GET \/invalid HTTP\/1\.0" 500 22 /);
  assert.equal(invalid!.entry.statuscode, 500);
});

test('log: a response cut short by the client is logged with bytes "-"', async (t) => {
  const { lines, log } = logSink();
  const { port } = await serve(t, () => ({
    statuscode: 200,
    message: (async function* () { for (let i = 0; i < 10_000; i++) { yield 'x'.repeat(64 * 1024); await sleep(1); } })(),
  }), { log, onError: errorSink().onError });
  const connection = await connectRaw(t, port);
  connection.socket.write('GET /endless HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(await connection.waitFor('xxxx'));
  connection.socket.destroy();
  await waitForLines(lines, 1);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!.line, /"GET \/endless HTTP\/1\.1" 200 - /);
  assert.equal(lines[0]!.entry.bytes, undefined);
});

// Issue 11, defect 8: "-" must mean "not fully sent", not "the client hung up right after the last byte".
test('log: a body sent whole is logged with its bytes though the client hangs up before the source ends', async (t) => {
  const { lines, log } = logSink();
  const body = 'y'.repeat(1024);
  const { port } = await serve(t, (request) => ({
    statuscode: 200,
    headers: { 'Content-Length': body.length },
    // Every byte, then an end that comes only after the client has left (as a file's EOF can come after curl hung up).
    message: (async function* () {
      yield body;
      await new Promise((resolve) => request.signal.addEventListener('abort', resolve, { once: true }));
    })(),
  }), { log, onError: errorSink().onError });
  const connection = await connectRaw(t, port);
  connection.socket.write('GET /whole HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(await connection.waitFor(body));
  connection.socket.destroy();
  await waitForLines(lines, 1);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!.line, /"GET \/whole HTTP\/1\.1" 200 1024 /);
  assert.equal(lines[0]!.entry.bytes, 1024);
});

test('log: a preflight is logged too', async (t) => {
  const { lines, log } = logSink();
  const { port } = await serve(t, hello, { log, cors: 'on', onError: errorSink().onError });
  const reply = await ask(port, '/api', { method: 'OPTIONS', headers: { Origin: 'https://a.example', 'Access-Control-Request-Method': 'PUT' } });
  assert.equal(reply.status, 204);
  await waitForLines(lines, 1);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!.line, /"OPTIONS \/api HTTP\/1\.1" 204 0 /);
});

test('log: a log function that throws is reported and the listener keeps serving', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, hello, { log: () => { throw new Error('log broke'); }, onError });
  for (let i = 0; i < 2; i++) {
    const reply = await ask(port, '/');
    assert.equal(reply.body, 'hello');
  }
  for (let i = 0; i < 100 && errors.length < 2; i++) await sleep(10);
  assert.deepEqual(errors.map((error) => error.message), ['log broke', 'log broke']);
});

function captureStdout(t: TestContext, marker: string): string[] {
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (String(chunk).includes(marker)) { lines.push(String(chunk)); return true; }
    return (write as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  t.after(() => { process.stdout.write = write; });
  return lines;
}

test('log: true writes one line per request to stdout', async (t) => {
  const lines = captureStdout(t, '/log-true-marker');
  const { port } = await serve(t, hello, { log: true, onError: errorSink().onError });
  await ask(port, '/log-true-marker');
  await ask(port, '/log-true-marker?again');
  await waitForLines(lines, 2);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^127\.0\.0\.1 \[[^\]]+\] "GET \/log-true-marker HTTP\/1\.1" 200 5 [\d.]+ms\n$/);
  assert.match(lines[1]!, /"GET \/log-true-marker\?again HTTP\/1\.1" 200 5 /);
});

test('log: false and no log option log nothing', async (t) => {
  const lines = captureStdout(t, '/log-false-marker');
  for (const log of [false, undefined]) {
    const { port } = await serve(t, hello, { log, onError: errorSink().onError });
    assert.equal((await ask(port, '/log-false-marker')).status, 200);
  }
  await sleep(20);
  assert.deepEqual(lines, []);
});

// callbacks

test('a sync callback, an async callback and a thenable all answer', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, (request) => {
    if (request.path === '/sync') return { statuscode: 200, message: 'sync' };
    if (request.path === '/async') return (async () => { await sleep(5); return { statuscode: 201, message: 'async' }; })();
    return { then: (resolve: (value: HttpResponse) => void) => resolve({ statuscode: 202, message: 'thenable' }) } as unknown as Promise<HttpResponse>;
  }, { onError });
  for (const [path, status, body] of [['/sync', 200, 'sync'], ['/async', 201, 'async'], ['/thenable', 202, 'thenable']] as const) {
    const reply = await ask(port, path);
    assert.equal(reply.status, status);
    assert.equal(reply.body, body);
  }
  assert.equal(errors.length, 0);
});

test('the callback is called once per request with the request dictionary', async (t) => {
  const seen: Array<[string, string, string | null]> = [];
  const { port } = await serve(t, (request) => { seen.push([request.verb, request.path, request.querystr]); return hello(request); }, { onError: errorSink().onError });
  await ask(port, '/a?b=1');
  await ask(port, '/c', { method: 'POST', body: 'x' });
  assert.deepEqual(seen, [['GET', '/a', 'b=1'], ['POST', '/c', null]]);
});

for (const outcome of ['resolves', 'rejects'] as const) {
  test(`a callback that ${outcome} after the client disconnected throws nothing and the listener keeps serving`, async (t) => {
    const { onError } = errorSink();
    const problems: unknown[] = [];
    const onProblem = (problem: unknown) => { problems.push(problem); };
    process.on('uncaughtException', onProblem);
    process.on('unhandledRejection', onProblem);
    t.after(() => {
      process.off('uncaughtException', onProblem);
      process.off('unhandledRejection', onProblem);
    });
    let closes = 0;
    let settled = false;
    const { port } = await serve(t, async (request) => {
      if (request.path === '/good') return { statuscode: 200, message: 'fine' };
      await sleep(150);
      settled = true;
      if (outcome === 'rejects') throw new Error('late failure');
      return { statuscode: 200, message: { read: () => 'late', close: () => { closes += 1; } } };
    }, { onError });

    const connection = await connectRaw(t, port);
    connection.socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(30);
    connection.socket.destroy();
    for (let i = 0; i < 100 && !settled; i++) await sleep(10);
    assert.equal(settled, true);
    await sleep(50);
    assert.deepEqual(problems, []);
    if (outcome === 'resolves') assert.equal(closes, 1, 'the late file-like was not closed');
    const good = await ask(port, '/good');
    assert.equal(good.body, 'fine');
  });
}

test('a response queued behind a slow one is logged with bytes "-" when the client leaves first', async (t) => {
  const lines: string[] = [];
  const { port } = await serve(t, async (request) => {
    if (request.path === '/slow') await sleep(300);
    return { statuscode: 200, message: request.path };
  }, { log: (line) => { lines.push(line); }, onError: errorSink().onError });
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n');
  await sleep(100);
  socket.destroy();
  const deadline = Date.now() + 2000;
  while (lines.length < 2 && Date.now() < deadline) await sleep(20);
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.ok(lines.some((line) => /"GET \/fast HTTP\/1\.1" 200 - /.test(line)), lines.join('\n'));
  assert.ok(lines.some((line) => /"GET \/slow HTTP\/1\.1" 200 - /.test(line)), lines.join('\n'));
});

// Issue 11, defect 2: nothing reaches a callback once its connection is known to close.

/** Sends `bytes` in one write and resolves with all the server sent once it closes the connection. */
function sendAll(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = net.connect(port, '127.0.0.1');
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => { text += chunk; });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.write(bytes);
  });
}

for (const [name, first, status] of [
  ['a Host-less HTTP/1.1 request (refused 400)', 'GET / HTTP/1.1\r\n\r\n', 'HTTP/1.1 400'],
  ['an HTTP/1.0 request asking for keep-alive (1.0 answers close)', 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 'HTTP/1.0 200'],
  ['an HTTP/1.1 request with Connection: close', 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'HTTP/1.1 200'],
] as const) {
  test(`a request pipelined behind ${name} never reaches the callback`, async (t) => {
    const seen: string[] = [];
    // An answer that takes a turn of the event loop, as a file server's does: the next request is parsed meanwhile.
    const { port } = await serve(t, async (request) => {
      seen.push(`${request.verb} ${request.path}`);
      await new Promise((resolve) => setImmediate(resolve));
      return { statuscode: 200, message: 'ok' };
    });
    // Both requests come in one segment: Node parses and dispatches the second at once, before any answer is out.
    const reply = await sendAll(port, `${first}DELETE /keep.txt HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.deepEqual(statusLines(reply).map((line) => line.slice(0, 12)), [status]);
    assert.ok(!seen.includes('DELETE /keep.txt'), `the pipelined DELETE ran: ${JSON.stringify(seen)}`);
  });
}
