import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpError, ValueError } from '../lib/index.js';
import type { Callback, FileLike, HttpResponse } from '../lib/index.js';
import { ask, blockEventLoop, captureStderr, connectRaw, errorSink, serve, sleep, statusLines } from './support.js';

/** Answers /good with 200 'fine' and everything else with `failing`. */
function failingAt(failing: Callback): Callback {
  return (request) => (request.path === '/good' ? { statuscode: 200, message: 'fine' } : failing(request));
}

async function assertStillServing(port: number): Promise<void> {
  const good = await ask(port, '/good');
  assert.equal(good.status, 200);
  assert.equal(good.body, 'fine');
}

// The class.

test('HttpError carries status, statusCode, expose, headers and a stable code', () => {
  const error = new HttpError(404, 'nope');
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'HttpError');
  assert.equal(error.message, 'nope');
  assert.equal(error.status, 404);
  assert.equal(error.statusCode, 404);
  assert.equal(error.expose, true);
  assert.deepEqual(error.headers, {});
  assert.equal(error.code, 'ERR_HTTP_404');
  assert.match(String(error.stack), /^HttpError: nope\n/);
});

test('HttpError: the message defaults to the reason phrase; 5xx are not exposed unless asked', () => {
  const unavailable = new HttpError(503);
  assert.equal(unavailable.message, 'Service Unavailable');
  assert.equal(unavailable.expose, false);
  assert.equal(unavailable.code, 'ERR_HTTP_503');
  assert.equal(new HttpError(503, 'down', { expose: true }).expose, true);
  assert.equal(new HttpError(400, 'bad', { expose: false }).expose, false);
  assert.equal(new HttpError(499).message, 'HTTP 499');
  const cause = new Error('root');
  assert.equal(new HttpError(500, 'x', { cause }).cause, cause);
  assert.deepEqual(new HttpError(405, 'no', { headers: { Allow: 'GET' } }).headers, { Allow: 'GET' });
});

test('HttpError rejects a status outside 400-599 with ValueError ERR_OUT_OF_RANGE', () => {
  for (const status of [200, 302, 399, 600, 1000, -404]) {
    assert.throws(() => new HttpError(status), (error: unknown) => {
      assert.ok(error instanceof ValueError);
      assert.ok(error instanceof RangeError);
      assert.equal(error.name, 'ValueError');
      assert.equal(error.code, 'ERR_OUT_OF_RANGE');
      assert.match(error.message, new RegExp(`"status" argument must be an integer from 400 to 599\\. Received type number \\(${status}\\)`));
      return true;
    });
  }
});

test('HttpError rejects a status that is not an integer, naming the argument', () => {
  for (const status of [404.5, Number.NaN, '404', undefined]) {
    assert.throws(() => new HttpError(status as number), (error: unknown) => {
      assert.ok(error instanceof RangeError || error instanceof TypeError, String(error));
      assert.match((error as Error).message, /"status" argument must be an integer/);
      return true;
    });
  }
});

// Over a real server.

test('a callback throwing HttpError(404, "nope") answers 404 with body "nope", not reported', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, failingAt(() => { throw new HttpError(404, 'nope'); }), { onError });
  const reply = await ask(port, '/');
  assert.equal(reply.statusLine, 'HTTP/1.1 404 Not Found');
  assert.equal(reply.body, 'nope\n');
  assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(reply.headers['content-length'], '5');
  assert.equal(errors.length, 0);
  await assertStillServing(port);
});

test('an async callback rejecting with HttpError answers the same way', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, failingAt(async () => { await sleep(5); throw new HttpError(409, 'taken'); }), { onError });
  const reply = await ask(port, '/');
  assert.equal(reply.status, 409);
  assert.equal(reply.body, 'taken\n');
  assert.equal(errors.length, 0);
});

test('HttpError headers are sent (405 with Allow)', async (t) => {
  const { port } = await serve(t, () => { throw new HttpError(405, 'GET only', { headers: { Allow: 'GET, HEAD', 'X-Why': ['a', 'b'] } }); }, { onError: errorSink().onError });
  const reply = await ask(port, '/', { method: 'POST', body: 'x' });
  assert.equal(reply.statusLine, 'HTTP/1.1 405 Method Not Allowed');
  assert.match(reply.raw, /\r\nAllow: GET, HEAD\r\n/);
  assert.match(reply.raw, /\r\nX-Why: a\r\nX-Why: b\r\n/);
  assert.equal(reply.body, 'GET only\n');
});

test('HttpError headers that are malformed are left out, reported, and never injected', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, () => { throw new HttpError(401, 'log in', { headers: { 'WWW-Authenticate': 'Basic\r\nX-Injected: 1' } }); }, { onError });
  const reply = await ask(port, '/');
  assert.equal(reply.status, 401);
  assert.equal(reply.body, 'log in\n');
  assert.ok(!reply.raw.includes('X-Injected'));
  assert.ok(!reply.raw.includes('WWW-Authenticate'));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /"WWW-Authenticate".*CR, LF, NUL/);
});

test('HttpError(503) gets a generic body unless expose: true; it is reported', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, (request) => {
    if (request.path === '/plain') throw new HttpError(503);
    if (request.path === '/secret') throw new HttpError(503, 'database password wrong');
    throw new HttpError(503, 'down for maintenance', { expose: true, headers: { 'Retry-After': 60 } });
  }, { onError });

  const plain = await ask(port, '/plain');
  assert.equal(plain.statusLine, 'HTTP/1.1 503 Service Unavailable');
  assert.equal(plain.body, 'Service Unavailable\n');

  const secret = await ask(port, '/secret');
  assert.equal(secret.status, 503);
  assert.equal(secret.body, 'Service Unavailable\n');
  assert.ok(!secret.raw.includes('password'));

  const exposed = await ask(port, '/exposed');
  assert.equal(exposed.status, 503);
  assert.equal(exposed.body, 'down for maintenance\n');
  assert.match(exposed.raw, /\r\nRetry-After: 60\r\n/);

  assert.deepEqual(errors.map((error) => error.message), ['Service Unavailable', 'database password wrong', 'down for maintenance']);
});

test('a 4xx HttpError with expose: false gets the generic reason phrase', async (t) => {
  const { port } = await serve(t, () => { throw new HttpError(403, 'user 42 is banned', { expose: false }); }, { onError: errorSink().onError });
  const reply = await ask(port, '/');
  assert.equal(reply.status, 403);
  assert.equal(reply.body, 'Forbidden\n');
  assert.ok(!reply.raw.includes('banned'));
});

const generic: Array<{ name: string; callback: Callback; reported: RegExp }> = [
  { name: 'a plain Error thrown', callback: () => { throw new Error('secret detail'); }, reported: /^secret detail$/ },
  { name: 'a plain Error rejected', callback: async () => { await sleep(5); throw new Error('secret detail'); }, reported: /^secret detail$/ },
  { name: 'a TypeError from a bug', callback: (request) => (request as unknown as { nothing: { here: HttpResponse } }).nothing.here, reported: /Cannot read properties of undefined/ },
  { name: 'a string thrown', callback: () => { throw 'secret detail'; }, reported: /Non-error value thrown: secret detail/ },
  { name: 'a string rejected', callback: () => Promise.reject('secret detail'), reported: /Non-error value thrown: secret detail/ },
  { name: 'undefined thrown', callback: () => { throw undefined; }, reported: /Non-error value thrown: undefined/ },
  { name: 'null thrown', callback: () => { throw null; }, reported: /Non-error value thrown: null/ },
  { name: 'undefined rejected', callback: () => Promise.reject(undefined), reported: /Non-error value thrown: undefined/ },
  { name: 'an object without a prototype thrown', callback: () => { throw Object.create(null); }, reported: /Non-error value thrown: an object/ },
  { name: 'an object without a prototype rejected', callback: () => Promise.reject(Object.create(null)), reported: /Non-error value thrown: an object/ },
  { name: 'a Symbol thrown', callback: () => { throw Symbol('secret detail'); }, reported: /Non-error value thrown: Symbol\(secret detail\)/ },
  { name: 'an object with an out-of-range status', callback: () => { throw Object.assign(new Error('secret detail'), { status: 302, expose: true }); }, reported: /secret detail/ },
];

for (const { name, callback, reported } of generic) {
  test(`${name} answers 500 with a generic body, is reported, and the listener keeps serving`, async (t) => {
    const { onError, errors } = errorSink();
    const { port } = await serve(t, failingAt(callback), { onError });
    const reply = await ask(port, '/');
    assert.equal(reply.statusLine, 'HTTP/1.1 500 Internal Server Error');
    assert.equal(reply.body, 'Internal Server Error\n');
    assert.ok(!reply.raw.includes('secret'), reply.raw);
    assert.ok(!reply.raw.includes('Cannot read'), reply.raw);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof Error);
    assert.match(errors[0]!.message, reported);
    await assertStillServing(port);
    assert.equal(errors.length, 1);
  });
}

test('onError receives the thrown Error itself and the request', async (t) => {
  const thrown = new Error('the very one');
  const seen: unknown[][] = [];
  const { port } = await serve(t, () => { throw thrown; }, { onError: (...args: unknown[]) => { seen.push(args); } });
  await ask(port, '/where?x=1');
  assert.equal(seen.length, 1);
  assert.equal(seen[0]![0], thrown);
  assert.equal((seen[0]![1] as { path: string }).path, '/where');
});

test('an Error carrying upstream headers but no HTTP status does not put them on the 500', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, () => {
    throw Object.assign(new Error('upstream said 502'), { headers: { 'Content-Encoding': 'gzip', 'Set-Cookie': 'upstream=1' } });
  }, { onError });
  const reply = await ask(port, '/');
  assert.equal(reply.status, 500);
  assert.equal(reply.body, 'Internal Server Error\n');
  assert.ok(!/content-encoding|set-cookie/i.test(reply.raw), reply.raw);
  assert.equal(errors.length, 1);
});

test('exposeErrors: true puts the error in the 500 body', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, (request) => {
    if (request.path === '/string') throw 'plain words';
    throw new Error('secret detail');
  }, { onError, exposeErrors: true });
  const reply = await ask(port, '/');
  assert.equal(reply.status, 500);
  assert.match(reply.body, /^Error: secret detail\n\s+at /);
  assert.equal(reply.headers['content-length'], String(Buffer.byteLength(reply.body, 'latin1')));
  const text = await ask(port, '/string');
  assert.equal(text.status, 500);
  assert.equal(text.body, 'Non-error value thrown: plain words\n');
  assert.equal(errors.length, 2);
});

test('an onError that throws does not crash the listener; the failure goes to stderr', async (t) => {
  const lines = captureStderr(t);
  let calls = 0;
  const { port } = await serve(t, failingAt(() => { throw new Error('callback broke'); }), {
    onError: () => { calls += 1; throw new Error('reporter broke'); },
  });
  for (let i = 0; i < 2; i++) {
    const reply = await ask(port, '/');
    assert.equal(reply.status, 500);
    assert.equal(reply.body, 'Internal Server Error\n');
  }
  await assertStillServing(port);
  assert.equal(calls, 2);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^seattle-httpserver \[httpdid \d+\] GET \/: Error: onError threw: reporter broke\n$/);
});

test('an onError that throws something String() cannot convert does not crash the listener either', async (t) => {
  const lines = captureStderr(t);
  const { port } = await serve(t, failingAt(() => { throw Object.create(null); }), {
    onError: () => { throw Object.create(null); },
    exposeErrors: true,
  });
  const reply = await ask(port, '/');
  assert.equal(reply.status, 500);
  assert.equal(reply.body, 'Non-error value thrown: an object\n');
  await assertStillServing(port);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /onError threw: an object\n$/);
});

test('an http-errors-like object is honoured: status, expose, message, headers', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, (request) => {
    if (request.path === '/teapot') throw { status: 418, expose: true, message: 'short and stout' };
    if (request.path === '/limited') throw Object.assign(new Error('client 7 over quota'), { statusCode: 429, expose: false, headers: { 'Retry-After': '5' } });
    throw Object.assign(new Error('gone'), { status: 410 });
  }, { onError });

  const teapot = await ask(port, '/teapot');
  assert.equal(teapot.statusLine, "HTTP/1.1 418 I'm a Teapot");
  assert.equal(teapot.body, 'short and stout\n');

  const limited = await ask(port, '/limited');
  assert.equal(limited.status, 429);
  assert.equal(limited.body, 'Too Many Requests\n');
  assert.match(limited.raw, /\r\nRetry-After: 5\r\n/);
  assert.ok(!limited.raw.includes('quota'));

  // Without `expose`, a plain object is not trusted with the body.
  const gone = await ask(port, '/gone');
  assert.equal(gone.status, 410);
  assert.equal(gone.body, 'Gone\n');
  assert.equal(errors.length, 0);
});

test('a 413 from datastream.text() propagates as 413', async (t) => {
  const { onError, errors } = errorSink();
  let reached = false;
  const { port } = await serve(t, async (request) => {
    await request.datastream.text();
    reached = true;
    return { statuscode: 200, message: 'read it' };
  }, { onError, maxBodySize: 16 });
  const reply = await ask(port, '/', { method: 'POST', body: 'x'.repeat(100) });
  assert.equal(reply.statusLine, 'HTTP/1.1 413 Payload Too Large');
  assert.equal(reply.body, 'Request body is larger than the limit of 16 bytes\n');
  assert.equal(reached, false);
  assert.equal(errors.length, 0);
  const small = await ask(port, '/', { method: 'POST', body: 'x'.repeat(16) });
  assert.equal(small.status, 200);
  assert.equal(small.body, 'read it');
});

test('callbackTimeout: a callback that never settles gets 503 after the timeout', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, failingAt(() => new Promise<HttpResponse>(() => {})), { onError, callbackTimeout: 200 });
  const started = Date.now();
  const reply = await ask(port, '/');
  const took = Date.now() - started;
  assert.equal(reply.statusLine, 'HTTP/1.1 503 Service Unavailable');
  assert.equal(reply.body, 'The callback did not answer within 200 ms\n');
  assert.ok(took >= 180 && took < 1000, `answered after ${took} ms`);
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error & { code?: string }).code, 'ERR_CALLBACK_TIMEOUT');
  await assertStillServing(port);
});

// Issue 11, defect 7 (the callback's share): a block of the event loop by another callback counted against this one.
test('callbackTimeout: time another callback blocks the event loop does not count against a waiting callback', async (t) => {
  const { onError, errors } = errorSink();
  let blocked!: () => void;
  const blockOver = new Promise<void>((resolve) => { blocked = resolve; });
  let waiting!: () => void;
  const waitingStarted = new Promise<void>((resolve) => { waiting = resolve; });
  const { port } = await serve(t, async (request) => {
    if (request.path === '/block') {
      blockEventLoop(1200);
      blocked();
      return { statuscode: 200 };
    }
    waiting();
    // This callback's own work is short (50 ms, after the block); the block makes it late by the wall clock.
    await blockOver;
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { statuscode: 200, message: 'answered' };
  }, { onError, callbackTimeout: 1000 });
  const reply = ask(port, '/wait', { idleMs: 5000 });
  await waitingStarted;
  await ask(port, '/block', { idleMs: 5000 });
  const answer = await reply;
  assert.equal(answer.statusLine, 'HTTP/1.1 200 OK');
  assert.equal(answer.body, 'answered');
  assert.deepEqual(errors, []);
});

test('callbackTimeout: request.signal aborts with the timeout, so the callback can give up its work', async (t) => {
  const { onError } = errorSink();
  let reason: unknown;
  const { port } = await serve(t, (request) => new Promise<HttpResponse>((_resolve, reject) => {
    request.signal.addEventListener('abort', () => { reason = request.signal.reason; reject(request.signal.reason); });
  }), { onError, callbackTimeout: 200 });
  const reply = await ask(port, '/');
  assert.equal(reply.statusLine, 'HTTP/1.1 503 Service Unavailable');
  assert.equal((reason as Error & { code?: string }).code, 'ERR_CALLBACK_TIMEOUT');
});

test('callbackTimeout: a late result is discarded and its file-like message closed', async (t) => {
  const { onError } = errorSink();
  let closes = 0;
  let reads = 0;
  let settled = false;
  const file: FileLike = { read: () => { reads += 1; return 'LATE BODY'; }, close: () => { closes += 1; } };
  const { port } = await serve(t, failingAt(async () => {
    await sleep(350);
    settled = true;
    return { statuscode: 200, headers: { 'X-Late': '1' }, message: file };
  }), { onError, callbackTimeout: 200 });

  const connection = await connectRaw(t, port);
  connection.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(await connection.waitFor(/did not answer within 200 ms\n$/), connection.text);
  const early = connection.text;
  for (let i = 0; i < 100 && !settled; i++) await sleep(10);
  assert.equal(settled, true);
  await sleep(30);
  assert.equal(closes, 1);
  assert.equal(reads, 0);
  assert.equal(connection.text, early, 'something was sent after the 503');
  assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 503 Service Unavailable']);
  assert.ok(!connection.text.includes('LATE') && !connection.text.includes('X-Late'));

  // The keep-alive connection still works after the 503.
  connection.socket.write('GET /good HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(await connection.waitFor(/\r\n\r\nfine$/), connection.text);
});

test('callbackTimeout: 0 waits as long as the callback takes', async (t) => {
  const { port } = await serve(t, async () => { await sleep(250); return { statuscode: 200, message: 'slow but fine' }; }, { onError: errorSink().onError, callbackTimeout: 0 });
  // The answer comes after 250 ms of silence: wait for it (the server closes after it) rather than judge the silence.
  const reply = await ask(port, '/', { idleMs: 10_000 });
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'slow but fine');
});
