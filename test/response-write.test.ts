import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { HttpError, ValueError } from '../lib/index.js';
import type { Callback, FileLike, HttpResponse } from '../lib/index.js';
import { ask, connectRaw, decodeChunked, errorSink, serve, sleep, statusLines } from './support.js';

/** Polls `condition` every 10 ms for up to `ms`; true once it holds. */
async function waitUntil(condition: () => boolean, ms = 1000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 10) {
    if (condition()) return true;
    await sleep(10);
  }
  return condition();
}

function count(text: string, pattern: RegExp): number {
  return (text.match(new RegExp(pattern.source, 'gim')) ?? []).length;
}

/** A Seattle file-like over `parts`, counting reads and closes. */
function fileLike(parts: Array<string | Uint8Array>, how: { async?: boolean; failAfter?: number; endless?: boolean } = {}) {
  const state = { reads: 0, closes: 0, sizes: [] as Array<number | undefined> };
  let next = 0;
  const produce = (size?: number): string | Uint8Array => {
    state.reads += 1;
    state.sizes.push(size);
    if (how.failAfter !== undefined && next >= how.failAfter) throw new Error('file read failed midway');
    if (how.endless) return 'x'.repeat(size ?? 1024);
    return next < parts.length ? parts[next++]! : '';
  };
  const file: FileLike = {
    read: how.async ? (size) => new Promise((resolve, reject) => {
      setImmediate(() => { try { resolve(produce(size)); } catch (error) { reject(error); } });
    }) : produce,
    close() { state.closes += 1; },
  };
  return { file, state };
}

const answer = (message: unknown, headers?: Record<string, string | number | string[]>, statuscode = 200): Callback =>
  () => ({ statuscode, headers, message }) as HttpResponse;

// Bodies of known length.

test('a string body is sent with Content-Length and text/plain; charset=utf-8', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, answer('héllo ✓'), { onError });
  const reply = await ask(port, '/');
  assert.equal(reply.statusLine, 'HTTP/1.1 200 OK');
  assert.equal(reply.headers['content-length'], '10');
  assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(reply.headers['transfer-encoding'], undefined);
  assert.equal(Buffer.from(reply.body, 'latin1').toString('utf8'), 'héllo ✓');
  assert.equal(errors.length, 0);
});

test('a string body keeps the Content-Type the callback gave, once', async (t) => {
  const { port } = await serve(t, answer('<a/>', { 'content-type': 'application/xml' }), { onError: errorSink().onError });
  const reply = await ask(port, '/');
  assert.equal(reply.headers['content-type'], 'application/xml');
  assert.equal(count(reply.raw, /^content-type:/m), 1);
  assert.equal(reply.headers['content-length'], '4');
  assert.equal(reply.body, '<a/>');
});

test('an empty or missing message is sent as Content-Length: 0', async (t) => {
  const { port } = await serve(t, (request) => ({ statuscode: 200, message: request.path === '/empty' ? '' : undefined }), { onError: errorSink().onError });
  for (const path of ['/empty', '/none']) {
    const reply = await ask(port, path);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-length'], '0');
    assert.equal(reply.body, '');
  }
});

test('a Buffer body is sent byte for byte, 0x00 to 0xff, without a Content-Type', async (t) => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const { port } = await serve(t, answer(bytes), { onError: errorSink().onError });
  const reply = await ask(port, '/');
  assert.equal(reply.headers['content-length'], '256');
  assert.equal(reply.headers['content-type'], undefined);
  assert.deepEqual(Buffer.from(reply.body, 'latin1'), bytes);
});

test('a Uint8Array view is sent as exactly its own bytes, not its whole buffer', async (t) => {
  const backing = new Uint8Array([0xaa, 0x00, 0xff, 0x0d, 0x0a, 0xbb]);
  const view = backing.subarray(1, 5);
  const { port } = await serve(t, answer(view), { onError: errorSink().onError });
  const reply = await ask(port, '/');
  assert.equal(reply.headers['content-length'], '4');
  assert.deepEqual([...Buffer.from(reply.body, 'latin1')], [0x00, 0xff, 0x0d, 0x0a]);
});

test('HEAD with a string body keeps Content-Length and sends no body (the next response on the connection is intact)', async (t) => {
  const { port } = await serve(t, answer('hello'), { onError: errorSink().onError });
  const connection = await connectRaw(t, port);
  connection.socket.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(await connection.waitFor(/\r\n\r\nhello$/), connection.text);
  const [head, get] = connection.text.split(/(?=HTTP\/1\.1 200)/);
  assert.match(head!, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head!, /\r\nContent-Length: 5\r\n/);
  assert.match(head!, /\r\n\r\n$/);
  assert.match(get!, /\r\nContent-Length: 5\r\n[^]*\r\n\r\nhello$/);
  assert.equal(statusLines(connection.text).length, 2);
});

// Streamed bodies.

const streamKinds: Array<{ name: string; make: () => unknown; expected: Buffer }> = [
  { name: 'a Node Readable', make: () => Readable.from([Buffer.from('ab'), Buffer.from([0, 0xff]), Buffer.from('cd')]), expected: Buffer.from([0x61, 0x62, 0, 0xff, 0x63, 0x64]) },
  {
    name: 'a web ReadableStream of bytes',
    make: () => new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([0x77, 0x00]));
        controller.enqueue(new Uint8Array([0xff, 0x65]));
        controller.close();
      },
    }),
    expected: Buffer.from([0x77, 0x00, 0xff, 0x65]),
  },
  {
    name: 'a web ReadableStream of strings',
    make: () => new ReadableStream<string>({ start(controller) { controller.enqueue('wé'); controller.enqueue('b'); controller.close(); } }),
    expected: Buffer.from('wéb'),
  },
  { name: 'an async generator of strings', make: () => (async function* () { yield 'a'; yield 'é'; yield '✓'; })(), expected: Buffer.from('aé✓') },
  {
    name: 'an async generator of bytes',
    make: () => (async function* () { yield new Uint8Array([0, 1]); yield Buffer.from([0xfe, 0xff]); })(),
    expected: Buffer.from([0, 1, 0xfe, 0xff]),
  },
  { name: 'a file-like with a sync read()', make: () => fileLike(['one ', Buffer.from([0, 0xff]), ' two']).file, expected: Buffer.concat([Buffer.from('one '), Buffer.from([0, 0xff]), Buffer.from(' two')]) },
  { name: 'a file-like with an async read()', make: () => fileLike([Buffer.from('as'), 'ync ✓'], { async: true }).file, expected: Buffer.from('async ✓') },
];

for (const { name, make, expected } of streamKinds) {
  test(`${name} is streamed with chunked encoding on HTTP/1.1`, async (t) => {
    const { onError, errors } = errorSink();
    const { port } = await serve(t, answer(make()), { onError });
    const reply = await ask(port, '/');
    assert.equal(reply.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(reply.headers['transfer-encoding'], 'chunked');
    assert.equal(reply.headers['content-length'], undefined);
    assert.equal(reply.headers['content-type'], undefined);
    const { body, complete } = decodeChunked(reply.body);
    assert.equal(complete, true, reply.raw);
    assert.deepEqual(Buffer.from(body, 'latin1'), expected);
    assert.equal(errors.length, 0);
  });

  test(`${name} is sent close-delimited, without chunking, to an HTTP/1.0 client`, async (t) => {
    const { port } = await serve(t, () => ({ statuscode: 200, message: make() }) as HttpResponse, { onError: errorSink().onError });
    const reply = await ask(port, '/', { version: '1.0' });
    assert.equal(reply.statusLine, 'HTTP/1.0 200 OK');
    assert.equal(reply.headers['transfer-encoding'], undefined);
    assert.equal(reply.headers['content-length'], undefined);
    assert.equal(reply.headers.connection, 'close');
    assert.equal(reply.closed, true);
    assert.deepEqual(Buffer.from(reply.body, 'latin1'), expected);
  });
}

test("a streamed body with version '1.0' on an HTTP/1.1 request is close-delimited", async (t) => {
  const { port } = await serve(t, () => ({ statuscode: 200, version: '1.0', message: Readable.from(['ab', 'cd']) }), { onError: errorSink().onError });
  const reply = await ask(port, '/');
  assert.equal(reply.statusLine, 'HTTP/1.0 200 OK');
  assert.ok(!/transfer-encoding/i.test(reply.raw));
  assert.equal(reply.body, 'abcd');
  assert.equal(reply.closed, true);
});

test("version '0.9' sends the body alone", async (t) => {
  const { port } = await serve(t, () => ({ statuscode: 200, version: '0.9', headers: { 'X-A': '1' }, message: 'bare body' }), { onError: errorSink().onError });
  const reply = await ask(port, '/');
  assert.equal(reply.raw, 'bare body');
  assert.equal(reply.closed, true);
});

test('a streamed body with a declared Content-Length is sent with it, not chunked, and keeps the connection', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, () => ({ statuscode: 200, headers: { 'Content-Length': 4 }, message: Readable.from(['ab', 'cd']) }), { onError });
  const connection = await connectRaw(t, port);
  connection.socket.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(await connection.waitFor(/abcd[^]*abcd$/), connection.text);
  assert.equal(count(connection.text, /^Content-Length: 4\r$/m), 2);
  assert.ok(!/transfer-encoding/i.test(connection.text));
  assert.deepEqual(connection.text.split('\r\n\r\n').slice(1).map((part) => part.slice(0, 4)), ['abcd', 'abcd']);
  assert.equal(connection.closed, false);
  assert.equal(errors.length, 0);
});

for (const { name, parts, declared, reason } of [
  { name: 'more', parts: ['ab', 'cd', 'ef'], declared: 3, reason: /longer than its Content-Length \(3 bytes\)/ },
  { name: 'fewer', parts: ['ab', 'cd'], declared: 10, reason: /ended after 4 of its Content-Length \(10 bytes\)/ },
]) {
  test(`a stream producing ${name} bytes than its Content-Length destroys the connection and is reported`, async (t) => {
    const { onError, errors } = errorSink();
    const { port } = await serve(t, (request) => (request.path === '/good'
      ? { statuscode: 200, message: 'fine' }
      : { statuscode: 200, headers: { 'Content-Length': declared }, message: Readable.from(parts) }), { onError });
    const connection = await connectRaw(t, port);
    connection.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await connection.waitClose(), 'the connection stays open');
    assert.match(connection.text, new RegExp(`^HTTP/1\\.1 200 OK\\r\\n[^]*Content-Length: ${declared}\\r\\n`));
    const body = connection.text.slice(connection.text.indexOf('\r\n\r\n') + 4);
    assert.ok(body.length <= declared, `more than ${declared} bytes were sent: ${JSON.stringify(body)}`);
    assert.ok(body.length < declared || name === 'more');
    assert.ok(await waitUntil(() => errors.length > 0));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, reason);
    const good = await ask(port, '/good');
    assert.equal(good.body, 'fine');
  });
}

test('backpressure: a client that stops reading stops the source; then every byte of 16 MiB arrives intact', async (t) => {
  const CHUNK = 64 * 1024;
  const CHUNKS = 256;
  let produced = 0;
  const { onError, errors } = errorSink();
  const { port } = await serve(t, () => ({
    statuscode: 200,
    message: (async function* () {
      for (let i = 0; i < CHUNKS; i++) {
        produced += CHUNK;
        yield Buffer.alloc(CHUNK, i & 0xff);
      }
    })(),
  }), { onError });

  const socket = net.connect(port, '127.0.0.1');
  t.after(() => { socket.destroy(); });
  const chunks: Buffer[] = [];
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  // Paused before the first byte: the kernel's receive buffer never grows past its initial size.
  socket.pause();
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await sleep(300);
  const whilePaused = produced;
  await sleep(50);
  assert.equal(produced, whilePaused, 'the source kept producing while the client was not reading');
  // Loopback socket buffers hold about 4 MiB here; without backpressure all 16 MiB would be produced at once.
  assert.ok(whilePaused < 8 * 1024 * 1024, `produced ${whilePaused} bytes ahead of a paused client`);
  socket.resume();
  await closed;

  const text = Buffer.concat(chunks).toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  assert.match(text.slice(0, split), /Transfer-Encoding: chunked/);
  const { body, complete } = decodeChunked(text.slice(split + 4));
  assert.equal(complete, true);
  const received = Buffer.from(body, 'latin1');
  assert.equal(received.length, CHUNK * CHUNKS);
  for (let i = 0; i < CHUNKS; i++) {
    const part = received.subarray(i * CHUNK, (i + 1) * CHUNK);
    assert.ok(part.every((byte) => byte === (i & 0xff)), `chunk ${i} is corrupted`);
  }
  assert.equal(errors.length, 0);
});

// A body that fails midway.

const failingKinds: Array<{ name: string; make: () => unknown }> = [
  {
    name: 'a Node Readable',
    make: () => {
      let step = 0;
      return new Readable({
        read() {
          step += 1;
          if (step === 1) this.push('first part');
          else setTimeout(() => this.destroy(new Error('body failed midway')), 20);
        },
      });
    },
  },
  { name: 'an async generator', make: () => (async function* () { yield 'first part'; await sleep(20); throw new Error('body failed midway'); })() },
  { name: 'a file-like', make: () => fileLike(['first part'], { async: true, failAfter: 1 }).file },
];

for (const { name, make } of failingKinds) {
  test(`${name} that fails midway destroys the connection, is reported once, and the listener keeps serving`, async (t) => {
    const { onError, errors } = errorSink();
    const { port } = await serve(t, (request) => (request.path === '/good'
      ? { statuscode: 200, message: 'fine' }
      : { statuscode: 200, message: make() }) as HttpResponse, { onError });
    const connection = await connectRaw(t, port);
    connection.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await connection.waitClose(), 'the connection stays open');
    assert.match(connection.text, /^HTTP\/1\.1 200 OK\r\n[^]*Transfer-Encoding: chunked\r\n/);
    const { body, complete } = decodeChunked(connection.text.slice(connection.text.indexOf('\r\n\r\n') + 4));
    assert.equal(complete, false, 'the client was told the body was complete');
    assert.equal(body, 'first part');
    await sleep(50);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /failed midway/);
    const good = await ask(port, '/good');
    assert.equal(good.status, 200);
    assert.equal(good.body, 'fine');
  });
}

test('a body failing midway on an HTTP/1.0 (close-delimited) response is reported once', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, () => ({ statuscode: 200, message: failingKinds[1]!.make() }) as HttpResponse, { onError });
  const reply = await ask(port, '/', { version: '1.0' });
  assert.equal(reply.statusLine, 'HTTP/1.0 200 OK');
  assert.equal(reply.closed, true);
  assert.equal(reply.body, 'first part');
  await sleep(50);
  assert.deepEqual(errors.map((error) => error.message), ['body failed midway']);
});

// The file-like's close() is always called.

test('file-like: close() is called once after a normal end, and read() is asked for a size', async (t) => {
  const { file, state } = fileLike(['abc', 'def']);
  const { port } = await serve(t, answer(file), { onError: errorSink().onError });
  const reply = await ask(port, '/');
  assert.equal(decodeChunked(reply.body).body, 'abcdef');
  assert.ok(await waitUntil(() => state.closes > 0));
  await sleep(20);
  assert.equal(state.closes, 1);
  assert.equal(state.reads, 3);
  assert.ok(state.sizes.every((size) => typeof size === 'number' && size > 0));
});

test('file-like: close() is called on a HEAD request, without reading', async (t) => {
  const { file, state } = fileLike(['abc']);
  const { port } = await serve(t, answer(file), { onError: errorSink().onError });
  const reply = await ask(port, '/', { method: 'HEAD' });
  assert.equal(reply.status, 200);
  assert.equal(reply.body, '');
  assert.ok(await waitUntil(() => state.closes > 0));
  assert.equal(state.closes, 1);
  assert.equal(state.reads, 0);
});

test('file-like: close() is called for a 204 or 304, which carry no body', async (t) => {
  const files = [fileLike(['abc']), fileLike(['abc'])];
  let next = 0;
  const { port } = await serve(t, () => ({ statuscode: next === 0 ? 204 : 304, message: files[next++]!.file }), { onError: errorSink().onError });
  for (const status of [204, 304]) {
    const reply = await ask(port, '/');
    assert.equal(reply.status, status);
    assert.equal(reply.body, '');
    assert.ok(!/transfer-encoding/i.test(reply.raw));
  }
  assert.ok(await waitUntil(() => files.every(({ state }) => state.closes === 1)));
  assert.deepEqual(files.map(({ state }) => state.reads), [0, 0]);
});

test('file-like: close() is called when the same response fails validation', async (t) => {
  const { onError, errors } = errorSink();
  const { file, state } = fileLike(['secret']);
  const { port } = await serve(t, answer(file, { 'X-Bad': 'a\r\nb' }), { onError });
  const reply = await ask(port, '/');
  assert.equal(reply.status, 500);
  assert.ok(!reply.raw.includes('secret'));
  assert.ok(await waitUntil(() => state.closes > 0));
  assert.equal(state.closes, 1);
  assert.equal(state.reads, 0);
  assert.equal(errors.length, 1);
});

test('file-like: close() is called when read() fails midway', async (t) => {
  const { onError, errors } = errorSink();
  const { file, state } = fileLike(['part'], { failAfter: 1 });
  const { port } = await serve(t, answer(file), { onError });
  const reply = await ask(port, '/');
  assert.equal(reply.closed, true);
  assert.equal(decodeChunked(reply.body).complete, false);
  assert.ok(await waitUntil(() => state.closes > 0));
  assert.equal(state.closes, 1);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /file read failed midway/);
});

test('file-like: read() rejecting with a non-Error (even one String() cannot convert) is reported and closes the file', async (t) => {
  const { onError, errors } = errorSink();
  let closes = 0;
  const { port } = await serve(t, answer({ read: () => Promise.reject(Object.create(null)), close: () => { closes += 1; } }), { onError });
  const reply = await ask(port, '/');
  assert.equal(reply.closed, true);
  assert.equal(decodeChunked(reply.body).complete, false);
  assert.ok(await waitUntil(() => closes > 0 && errors.length > 0));
  assert.equal(closes, 1);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /an object/);
});

test('file-like: read() returning something other than text or bytes fails the body and closes the file', async (t) => {
  const { onError, errors } = errorSink();
  let closes = 0;
  const { port } = await serve(t, answer({ read: () => 42, close: () => { closes += 1; } }), { onError });
  const reply = await ask(port, '/');
  assert.equal(reply.closed, true);
  assert.equal(decodeChunked(reply.body).complete, false);
  assert.ok(await waitUntil(() => closes > 0));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /read\(\) must return a string or bytes/);
});

for (const version of ['1.1', '1.0']) {
  test(`file-like: close() is called when an HTTP/${version} client disconnects midway, and nothing is reported`, async (t) => {
    const { onError, errors } = errorSink();
    const { file, state } = fileLike([], { async: true, endless: true });
    const { port } = await serve(t, answer(file), { onError });
    const connection = await connectRaw(t, port);
    connection.socket.write(`GET / HTTP/${version}\r\nHost: x\r\n\r\n`);
    assert.ok(await connection.waitFor('xxxx'));
    connection.socket.destroy();
    assert.ok(await waitUntil(() => state.closes > 0), 'close() was never called');
    const readsAtClose = state.reads;
    await sleep(50);
    assert.equal(state.closes, 1);
    assert.ok(state.reads <= readsAtClose + 1, 'reading went on after close()');
    assert.deepEqual(errors.map((error) => error.message), []);
  });
}

test('file-like: a close() that throws or rejects does not break the response', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, (request) => {
    const parts = ['ok'];
    return {
    statuscode: 200,
    message: {
      read: () => parts.shift() ?? '',
      close() {
        if (request.path === '/throw') throw new Error('close threw');
        return Promise.reject(new Error('close rejected'));
      },
    },
    };
  }, { onError });
  for (const path of ['/throw', '/reject']) {
    const reply = await ask(port, path);
    assert.equal(decodeChunked(reply.body).body, 'ok');
  }
  await sleep(20);
  assert.equal(errors.length, 0);
});

test('a Node Readable and a web stream are released on HEAD', async (t) => {
  let destroyed = false;
  let cancelled = false;
  const { port } = await serve(t, (request) => {
    if (request.path === '/node') {
      const stream = new Readable({ read() { this.push('x'); } });
      stream.on('close', () => { destroyed = true; });
      return { statuscode: 200, message: stream };
    }
    return { statuscode: 200, message: new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(1)); }, cancel() { cancelled = true; } }) };
  }, { onError: errorSink().onError });
  for (const path of ['/node', '/web']) {
    const reply = await ask(port, path, { method: 'HEAD' });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, '');
  }
  assert.ok(await waitUntil(() => destroyed && cancelled), `destroyed ${destroyed}, cancelled ${cancelled}`);
});

// Headers.

test('options.headers are added to every response; the callback\'s own headers win, case-insensitively', async (t) => {
  const { port } = await serve(t, (request) => {
    if (request.path === '/error') throw new HttpError(404, 'nope');
    if (request.path === '/invalid') return { statuscode: 99 };
    if (request.path === '/stream') return { statuscode: 200, message: Readable.from(['s']) };
    return { statuscode: 200, headers: { 'x-powered-by': 'callback' }, message: 'hi' };
  }, { onError: errorSink().onError, headers: { 'X-Powered-By': 'library', 'X-Frame-Options': 'DENY' } });

  const own = await ask(port, '/');
  assert.match(own.raw, /\r\nx-powered-by: callback\r\n/);
  assert.equal(count(own.raw, /^x-powered-by:/m), 1);
  assert.match(own.raw, /\r\nX-Frame-Options: DENY\r\n/);
  assert.equal(own.body, 'hi');

  for (const [path, status] of [['/error', 404], ['/invalid', 500], ['/stream', 200]] as const) {
    const reply = await ask(port, path);
    assert.equal(reply.status, status);
    assert.match(reply.raw, /\r\nX-Powered-By: library\r\n/, `${path}:\n${reply.raw}`);
    assert.match(reply.raw, /\r\nX-Frame-Options: DENY\r\n/);
  }
  const head = await ask(port, '/', { method: 'HEAD' });
  assert.match(head.raw, /\r\nX-Frame-Options: DENY\r\n/);
  const old = await ask(port, '/', { version: '1.0' });
  assert.match(old.raw, /^HTTP\/1\.0 200 OK\r\n/);
  assert.match(old.raw, /\r\nX-Frame-Options: DENY\r\n/);
  assert.equal(count(old.raw, /^x-powered-by:/m), 1);
});

test('options.headers cannot fix the framing: Content-Length or Transfer-Encoding there is refused at registration', async (t) => {
  const framing: Array<Record<string, string>> = [{ 'Content-Length': '3' }, { 'transfer-encoding': 'chunked' }];
  for (const headers of framing) {
    await assert.rejects(serve(t, () => ({ statuscode: 200 }), { headers }), (error: unknown) => {
      assert.ok(error instanceof ValueError, String(error));
      assert.equal(error.code, 'ERR_INVALID_ARG_VALUE');
      assert.match(error.message, /options\.headers.*(Content-Length|transfer-encoding)/i);
      return true;
    });
  }
});

test('HEAD on a streamed body sends no body and the connection goes on', async (t) => {
  const { port } = await serve(t, () => ({ statuscode: 200, message: Readable.from(['ab', 'cd']) }), { onError: errorSink().onError });
  const connection = await connectRaw(t, port);
  connection.socket.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(await connection.waitFor(/\r\n0\r\n\r\n$/), connection.text);
  const [head, get] = connection.text.split(/(?=HTTP\/1\.1 200)/);
  assert.match(head!, /\r\n\r\n$/);
  assert.equal(decodeChunked(get!.slice(get!.indexOf('\r\n\r\n') + 4)).body, 'abcd');
});

test('Set-Cookie as an array gives one header line per cookie, on 1.1 and 1.0', async (t) => {
  const { port } = await serve(t, () => ({ statuscode: 200, headers: { 'Set-Cookie': ['a=1; Path=/', 'b=2'] }, message: 'ok' }), { onError: errorSink().onError });
  for (const version of ['1.1', '1.0']) {
    const reply = await ask(port, '/', { version });
    assert.match(reply.raw, /\r\nSet-Cookie: a=1; Path=\/\r\nSet-Cookie: b=2\r\n/);
    assert.equal(count(reply.raw, /^Set-Cookie:/m), 2);
    assert.equal(reply.body, 'ok');
  }
});

test('a numeric header value is sent as its decimal text', async (t) => {
  const { port } = await serve(t, () => ({ statuscode: 200, headers: { 'X-Count': 42, 'Retry-After': 0 }, message: 'ok' }), { onError: errorSink().onError });
  const reply = await ask(port, '/');
  assert.match(reply.raw, /\r\nX-Count: 42\r\n/);
  assert.match(reply.raw, /\r\nRetry-After: 0\r\n/);
});

test('Transfer-Encoding from the callback is dropped: the library decides framing', async (t) => {
  const { onError, errors } = errorSink();
  const { port } = await serve(t, (request): HttpResponse => {
    if (request.path === '/string') return { statuscode: 200, headers: { 'Transfer-Encoding': 'chunked' }, message: 'hello' };
    return { statuscode: 200, headers: { 'transfer-encoding': 'gzip, chunked' }, message: Readable.from(['ab', 'cd']) };
  }, { onError });

  const string = await ask(port, '/string');
  assert.ok(!/transfer-encoding/i.test(string.raw), string.raw);
  assert.equal(string.headers['content-length'], '5');
  assert.equal(string.body, 'hello');

  const stream = await ask(port, '/stream');
  assert.equal(count(stream.raw, /^transfer-encoding:/m), 1);
  assert.match(stream.raw, /\r\nTransfer-Encoding: chunked\r\n/);
  assert.ok(!stream.raw.includes('gzip'));
  assert.equal(decodeChunked(stream.body).body, 'abcd');

  const old = await ask(port, '/stream', { version: '1.0' });
  assert.ok(!/transfer-encoding/i.test(old.raw), old.raw);
  assert.equal(old.body, 'abcd');
  assert.equal(errors.length, 0);
});

test('a custom statusmsg is the reason phrase on the wire', async (t) => {
  const { port } = await serve(t, () => ({ statuscode: 299, statusmsg: 'Quite Fine', message: 'ok' }), { onError: errorSink().onError });
  for (const version of ['1.1', '1.0']) {
    const reply = await ask(port, '/', { version });
    assert.equal(reply.statusLine, `HTTP/${version} 299 Quite Fine`);
  }
});

for (const version of ['1.0', '1.1'] as const) {
  test(`a ${version} answer queued behind a slow pipelined response is released when the client leaves, its body read or not`, async (t) => {
    let closed = 0;
    const signals: AbortSignal[] = [];
    let answers = 0;
    let bothAnswered!: () => void;
    const answered = new Promise<void>((resolve) => { bothAnswered = resolve; });
    const { port } = await serve(t, async (request) => {
      if (request.path === '/slow') {
        await sleep(300);
        return { statuscode: 200, message: 'slow' };
      }
      signals.push(request.signal);
      if (request.verb === 'POST') assert.equal(await request.datastream.text(), 'abc');
      if (++answers === 2) bothAnswered();
      return { statuscode: 200, version, message: { read: () => 'never sent', close: () => { closed++; } } };
    }, { onError: errorSink().onError });
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /file HTTP/1.1\r\nHost: x\r\n\r\n' +
      'POST /file HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
    await answered;
    await sleep(20);
    socket.destroy();
    const deadline = Date.now() + 2000;
    while (closed < 2 && Date.now() < deadline) await sleep(20);
    assert.equal(closed, 2, 'both file-likes closed');
    assert.deepEqual(signals.map((signal) => signal.aborted), [true, true]);
  });
}
