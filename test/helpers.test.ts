import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { HttpError, ValueError, html, json, redirect, sendFile, text } from '../lib/index.js';
import { ask, connectRaw, errorSink, serve } from './support.js';

function assertTypeError(error: unknown, mentions: RegExp): true {
  assert.ok(error instanceof TypeError, String(error));
  assert.equal((error as { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
  assert.match((error as Error).message, mentions);
  return true;
}

function assertRangeError(error: unknown, mentions: RegExp): true {
  assert.ok(error instanceof ValueError, String(error));
  assert.ok(error instanceof RangeError);
  assert.equal(error.code, 'ERR_OUT_OF_RANGE');
  assert.match(error.message, mentions);
  return true;
}

// Plain objects.

test('text() and html() return plain response objects', () => {
  assert.deepEqual(text('hi'), { statuscode: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, message: 'hi' });
  assert.deepEqual(html('<p>hi</p>', 404, { 'X-A': '1' }), {
    statuscode: 404, headers: { 'Content-Type': 'text/html; charset=utf-8', 'X-A': '1' }, message: '<p>hi</p>',
  });
  const response = text('x');
  assert.equal(Object.getPrototypeOf(response), Object.prototype);
  assert.equal(JSON.stringify(response), '{"statuscode":200,"headers":{"Content-Type":"text/plain; charset=utf-8"},"message":"x"}');
});

test('a Content-Type given in any case replaces the default, and the caller\'s headers object is not changed', () => {
  const headers = { 'content-type': 'text/csv' };
  assert.deepEqual(text('a,b', 200, headers), { statuscode: 200, headers: { 'content-type': 'text/csv' }, message: 'a,b' });
  assert.deepEqual(headers, { 'content-type': 'text/csv' });
  const extra = { 'X-B': '2' };
  text('x', 200, extra);
  assert.deepEqual(extra, { 'X-B': '2' });
});

test('json() serialises the value with application/json', () => {
  assert.deepEqual(json({ a: [1, 'é'], b: null }), {
    statuscode: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, message: '{"a":[1,"é"],"b":null}',
  });
  assert.equal(json(null).message, 'null');
  assert.equal(json('s', 201).message, '"s"');
  assert.equal(json('s', 201).statuscode, 201);
  assert.equal(json(0).message, '0');
});

test('json() of a value JSON cannot represent is a TypeError ERR_INVALID_ARG_TYPE', () => {
  for (const value of [undefined, () => 1, Symbol('s')]) {
    assert.throws(() => json(value), (error) => assertTypeError(error, /"value" argument cannot be serialised as JSON/));
  }
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.throws(() => json(circular), TypeError);
});

test('redirect() returns a plain 302 with Location and an empty body', () => {
  assert.deepEqual(redirect('/there'), { statuscode: 302, headers: { Location: '/there' }, message: '' });
  assert.deepEqual(redirect('https://example.com/x?y=1', 301), { statuscode: 301, headers: { Location: 'https://example.com/x?y=1' }, message: '' });
  assert.equal(redirect('/x', 308).statuscode, 308);
});

test('redirect() percent-encodes the location once, and never lets CR/LF through', () => {
  assert.equal(redirect('/a b/é?q=1 2').headers!.Location, '/a%20b/%C3%A9?q=1%202');
  assert.equal(redirect('/a%20b/%C3%A9').headers!.Location, '/a%20b/%C3%A9');
  assert.equal(redirect('/x\r\nSet-Cookie: a=1').headers!.Location, '/x%0D%0ASet-Cookie:%20a=1');
  assert.equal(redirect('/100%').headers!.Location, '/100%25');
  assert.equal(redirect('/search?q=a%26b&next=%2Fhome').headers!.Location, '/search?q=a%26b&next=%2Fhome');
  assert.equal(redirect('/a%2Fb c').headers!.Location, '/a%2Fb%20c');
  assert.equal(redirect('/%zz%4').headers!.Location, '/%25zz%254');
  assert.equal(redirect('http://[::1]:8080/é').headers!.Location, 'http://[::1]:8080/%C3%A9');
});

test('argument errors name the argument', () => {
  assert.throws(() => redirect('/x', 200), (error) => assertRangeError(error, /"status" argument must be >= 300 and <= 399\. Received 200/));
  assert.throws(() => redirect('/x', 404), (error) => assertRangeError(error, /"status"/));
  assert.throws(() => redirect(42 as unknown as string), (error) => assertTypeError(error, /"location" argument must be of type string\. Received type number \(42\)/));
  assert.throws(() => redirect('/x', '301' as unknown as number), (error) => assertTypeError(error, /"status" argument must be an integer/));
  assert.throws(() => text('x', 100), (error) => assertRangeError(error, /"status" argument must be >= 200 and <= 599/));
  assert.throws(() => json({}, 600), (error) => assertRangeError(error, /"status"/));
  assert.throws(() => html('x', 200.5), (error) => assertTypeError(error, /"status" argument must be an integer/));
});

// Files.

function fixtures() {
  const dir = mkdtempSync(join(tmpdir(), 'seattle-helpers-'));
  const when = new Date('2020-01-02T03:04:05Z');
  const files: Record<string, Buffer> = {
    'page.html': Buffer.from('<!doctype html><p>héllo</p>\n'),
    'data.bin': Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    'style.css': Buffer.from('p { color: red }\n'),
    'my résumé ✓.txt': Buffer.from('unicode name, with spaces\n'),
    'no-extension': Buffer.from('plain bytes'),
    'empty.txt': Buffer.alloc(0),
  };
  for (const [name, bytes] of Object.entries(files)) {
    writeFileSync(join(dir, name), bytes);
    utimesSync(join(dir, name), when, when);
  }
  mkdirSync(join(dir, 'folder.txt'));
  return { dir, files, lastModified: 'Thu, 02 Jan 2020 03:04:05 GMT' };
}

test('sendFile() returns a plain object: type, length, last-modified, and a stream', async (t) => {
  const { dir, files, lastModified } = fixtures();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const response = await sendFile(join(dir, 'page.html'));
  assert.ok(response.message instanceof Readable);
  (response.message as Readable).destroy();
  assert.deepEqual({ ...response, message: undefined }, {
    statuscode: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': files['page.html']!.length, 'Last-Modified': lastModified },
    message: undefined,
  });
  const head = await sendFile(join(dir, 'page.html'), { verb: 'HEAD' });
  assert.equal(head.message, undefined);
  assert.equal(head.headers!['Content-Length'], files['page.html']!.length);
});

test('sendFile() of a missing path or a directory rejects with HttpError 404; a bad path argument with TypeError', async (t) => {
  const { dir } = fixtures();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const path of [join(dir, 'missing.txt'), join(dir, 'page.html', 'below'), join(dir, 'folder.txt')]) {
    await assert.rejects(sendFile(path), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 404);
      assert.equal(error.message, 'Not Found');
      return true;
    });
  }
  await assert.rejects(sendFile(undefined as unknown as string), (error) => assertTypeError(error, /"path" argument must be of type string/));
});

test('sendFile() over a real server: exact bytes, Content-Type from the extension, Content-Length, Last-Modified', async (t) => {
  const { dir, files, lastModified } = fixtures();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { onError, errors } = errorSink();
  const { port } = await serve(t, (request) => sendFile(join(dir, decodeURIComponent(request.path.slice(1))), request), { onError });

  const types: Record<string, string> = {
    'page.html': 'text/html; charset=utf-8',
    'data.bin': 'application/octet-stream',
    'style.css': 'text/css; charset=utf-8',
    'my résumé ✓.txt': 'text/plain; charset=utf-8',
    'no-extension': 'application/octet-stream',
    'empty.txt': 'text/plain; charset=utf-8',
  };
  for (const [name, type] of Object.entries(types)) {
    const reply = await ask(port, `/${encodeURIComponent(name)}`);
    assert.equal(reply.statusLine, 'HTTP/1.1 200 OK', name);
    assert.equal(reply.headers['content-type'], type, name);
    assert.equal(reply.headers['content-length'], String(files[name]!.length), name);
    assert.equal(reply.headers['last-modified'], lastModified, name);
    assert.equal(reply.headers['transfer-encoding'], undefined, name);
    assert.deepEqual(Buffer.from(reply.body, 'latin1'), files[name], name);
  }
  assert.equal(errors.length, 0);
});

test('sendFile() answers HEAD with the same head and no body, keeping the connection', async (t) => {
  const { dir, files, lastModified } = fixtures();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // One route passes the request (no stream is opened), one does not (the stream is released).
  const { port } = await serve(t, (request) => sendFile(join(dir, 'data.bin'), request.path === '/with' ? request : undefined), { onError: errorSink().onError });
  for (const path of ['/with', '/without']) {
    const connection = await connectRaw(t, port);
    connection.socket.write(`HEAD ${path} HTTP/1.1\r\nHost: x\r\n\r\nGET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const done = await connection.waitFor(/HTTP\/1\.1 200 OK[^]*HTTP\/1\.1 200 OK[^]*\r\n\r\n[^]{256}$/);
    assert.ok(done, connection.text);
    const [head, get] = connection.text.split(/(?=HTTP\/1\.1 200 OK)/);
    assert.match(head!, /\r\nContent-Length: 256\r\n/);
    assert.match(head!, new RegExp(`\\r\\nLast-Modified: ${lastModified}\\r\\n`));
    assert.match(head!, /\r\n\r\n$/, 'the HEAD answer carried a body');
    assert.deepEqual(Buffer.from(get!.slice(get!.indexOf('\r\n\r\n') + 4), 'latin1'), files['data.bin']);
  }
});

test('sendFile() of a missing file answers 404 over a real server', async (t) => {
  const { dir } = fixtures();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { onError, errors } = errorSink();
  const { port } = await serve(t, () => sendFile(join(dir, 'nope.txt')), { onError });
  const reply = await ask(port, '/nope.txt');
  assert.equal(reply.statusLine, 'HTTP/1.1 404 Not Found');
  assert.equal(reply.body, 'Not Found\n');
  assert.equal(errors.length, 0);
});

test('a file whose size changes after sendFile() looked at it never sends a wrong length', async (t) => {
  const { dir } = fixtures();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'growing.txt');
  writeFileSync(path, 'short');
  const { onError, errors } = errorSink();
  const { port } = await serve(t, async () => {
    const response = await sendFile(path);
    writeFileSync(path, 'much longer than it was');
    return response;
  }, { onError });
  const connection = await connectRaw(t, port);
  connection.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(await connection.waitClose(), 'the connection was kept after a wrong length');
  // The first chunk is already too long, so the head may never have been flushed; if it was, it says 5.
  if (connection.text !== '') {
    assert.match(connection.text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\nContent-Length: 5\r\n/);
    const body = connection.text.slice(connection.text.indexOf('\r\n\r\n') + 4);
    assert.ok(body.length <= 5, JSON.stringify(body));
  }
  assert.ok(!connection.text.includes('much longer'));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /Content-Length \(5 bytes\)/);
  assert.equal(statSync(path).size, 23);
});

test('redirect() over a real server gives 302 with Location and an empty body', async (t) => {
  const { port } = await serve(t, (request) => redirect(request.path === '/old' ? '/new place/é' : '/'), { onError: errorSink().onError });
  const reply = await ask(port, '/old');
  assert.equal(reply.statusLine, 'HTTP/1.1 302 Found');
  assert.equal(reply.headers.location, '/new%20place/%C3%A9');
  assert.equal(reply.headers['content-length'], '0');
  assert.equal(reply.body, '');
});

test('text(), html() and json() over a real server', async (t) => {
  const { port } = await serve(t, (request) => {
    if (request.path === '/html') return html('<b>é</b>', 201);
    if (request.path === '/json') return json({ ok: true, name: 'é' }, 202, { 'X-A': '1' });
    return text('plain é');
  }, { onError: errorSink().onError });
  const plain = await ask(port, '/text');
  assert.equal(plain.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(Buffer.from(plain.body, 'latin1').toString(), 'plain é');
  assert.equal(plain.headers['content-length'], '8');
  const page = await ask(port, '/html');
  assert.equal(page.statusLine, 'HTTP/1.1 201 Created');
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  const data = await ask(port, '/json');
  assert.equal(data.status, 202);
  assert.equal(data.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(data.headers['x-a'], '1');
  assert.deepEqual(JSON.parse(Buffer.from(data.body, 'latin1').toString()), { ok: true, name: 'é' });
});
