/**
 * Regression (repro r2): a file renamed over between the moment its answer
 * is decided and the moment its bytes are read. The answer must describe
 * and carry one file: the bytes sent are the old file's, under its length
 * and ETag, for whole files, ranges, multipart ranges and compressed
 * answers alike; and every descriptor opened for an answer is closed,
 * whichever way the answer ends.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import zlib from 'node:zlib';
import etag from 'etag';
import { sendFile, serveDirectory, type HttpRequest } from '../../lib/index.js';
import { ask, connectRaw, serve } from '../support.js';
import { allClosed } from '../support-fds.js';

const OLD = Buffer.alloc(1 << 20, 'A');
const NEW = Buffer.alloc(2 << 20, 'B');

function tempDir(t: TestContext): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seattle-race-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A server whose callback lets `answer` decide the response, then renames
 * `next.tmp` over `name` (as an upload or a deploy does), then returns the
 * response: the worst moment, after every stat and before any byte is read.
 */
async function racingServer(t: TestContext, dir: string, name: string, answer: (request: HttpRequest) => Promise<import('../../lib/index.js').HttpResponse>) {
  return serve(t, async (request) => {
    const response = await answer(request);
    renameSync(join(dir, 'next.tmp'), join(dir, name));
    return response;
  });
}

/** Old and new content in place; the ETag the old file has. */
function prepare(dir: string, name: string, old: Buffer = OLD, next: Buffer = NEW): string {
  writeFileSync(join(dir, name), old);
  writeFileSync(join(dir, 'next.tmp'), next);
  return etag(statSync(join(dir, name)), { weak: false });
}

function get(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; complete: boolean }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (chunk: Buffer) => parts.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(parts), complete: response.complete }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

test('a file renamed over after its answer was decided is sent whole, as the old file, under its length and ETag', async (t) => {
  const dir = tempDir(t);
  const files = serveDirectory({ root: dir, compress: false });
  const { port } = await racingServer(t, dir, 'f.bin', files);
  const oldTag = prepare(dir, 'f.bin');
  const response = await get(port, '/f.bin');
  assert.equal(response.status, 200);
  assert.equal(response.complete, true);
  assert.equal(response.headers['content-length'], String(OLD.length));
  assert.equal(response.headers.etag, oldTag);
  assert.ok(response.body.equals(OLD), `the old file's bytes, got ${response.body.length} bytes starting ${response.body.subarray(0, 4)}`);
  assert.ok(statSync(join(dir, 'f.bin')).size === NEW.length, 'the rename did happen before the body was read');
});

test('a single range and multipart ranges come from the old file too', async (t) => {
  const dir = tempDir(t);
  const old = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
  const next = Buffer.from(Array.from({ length: 90_000 }, (_, i) => (i * 7) % 253));
  const files = serveDirectory({ root: dir, compress: false });
  const { port } = await racingServer(t, dir, 'r.bin', files);

  prepare(dir, 'r.bin', old, next);
  const single = await get(port, '/r.bin', { Range: 'bytes=65536-69999' });
  assert.equal(single.status, 206);
  assert.equal(single.headers['content-range'], `bytes 65536-69999/${old.length}`);
  assert.ok(single.body.equals(old.subarray(65536, 70000)));

  prepare(dir, 'r.bin', old, next);
  const multi = await get(port, '/r.bin', { Range: 'bytes=0-9,65536-65545' });
  assert.equal(multi.status, 206);
  assert.equal(Number(multi.headers['content-length']), multi.body.length);
  const text = multi.body.toString('latin1');
  assert.ok(text.includes(old.subarray(0, 10).toString('latin1')), 'first part from the old file');
  assert.ok(text.includes(old.subarray(65536, 65546).toString('latin1')), 'second part from the old file');
  assert.match(text, new RegExp(`Content-Range: bytes 65536-65545/${old.length}`));
});

test('a compressed answer decodes to the old file', async (t) => {
  const dir = tempDir(t);
  const files = serveDirectory({ root: dir });
  const { port } = await racingServer(t, dir, 'page.txt', files);
  const old = Buffer.from('old text '.repeat(20_000));
  prepare(dir, 'page.txt', old, Buffer.from('new text, longer '.repeat(40_000)));
  const response = await get(port, '/page.txt', { 'Accept-Encoding': 'gzip' });
  assert.equal(response.headers['content-encoding'], 'gzip');
  assert.ok(zlib.gunzipSync(response.body).equals(old));
});

test('sendFile sends the file it described, even when the name is renamed over before it is read', async (t) => {
  const dir = tempDir(t);
  const { port } = await racingServer(t, dir, 'f.bin', (request) => sendFile(join(dir, 'f.bin'), request));
  const oldTag = prepare(dir, 'f.bin');
  const response = await get(port, '/f.bin');
  assert.equal(response.headers['content-length'], String(OLD.length));
  assert.equal(response.headers.etag, oldTag);
  assert.ok(response.body.equals(OLD));
});

test('every descriptor is closed: HEAD, 304, 412, 416, ranges, compression, precompressed, a client that leaves mid-body', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(8 << 20, 'x'));
  writeFileSync(join(dir, 'page.txt'), 'text '.repeat(10_000));
  writeFileSync(join(dir, 'app.js'), 'let a = 1;\n'.repeat(1000));
  writeFileSync(join(dir, 'app.js.br'), zlib.brotliCompressSync('let a = 1;\n'.repeat(1000)));
  const tag = etag(statSync(join(dir, 'page.txt')), { weak: false });
  const { port } = await serve(t, serveDirectory({ root: dir }));

  const statuses = [
    (await ask(port, '/page.txt', { method: 'HEAD' })).status,
    (await ask(port, '/page.txt', { method: 'HEAD', headers: { 'Accept-Encoding': 'gzip' } })).status,
    (await ask(port, '/page.txt', { headers: { 'If-None-Match': tag } })).status,
    (await ask(port, '/page.txt', { headers: { 'If-Match': '"other"' } })).status,
    (await ask(port, '/page.txt', { headers: { Range: 'bytes=999999-' } })).status,
    (await ask(port, '/page.txt', { headers: { Range: 'bytes=0-1' } })).status,
    (await ask(port, '/page.txt', { headers: { Range: 'bytes=0-1,5-6' } })).status,
    (await ask(port, '/page.txt', { headers: { 'Accept-Encoding': 'br' } })).status,
    (await ask(port, '/app.js', { headers: { 'Accept-Encoding': 'br' } })).status,
    (await ask(port, '/app.js', { method: 'HEAD', headers: { 'Accept-Encoding': 'br' } })).status,
    (await ask(port, '/page.txt')).status,
  ];
  assert.deepEqual(statuses, [200, 200, 304, 412, 416, 206, 206, 200, 200, 200, 200]);
  assert.deepEqual(await allClosed(dir), [], 'after answers that ended normally');

  // Clients that leave after the first bytes of a whole file, a range, a multipart answer and a compressed one.
  for (const headers of ['', 'Range: bytes=0-5000000\r\n', 'Range: bytes=0-1,3-5000000\r\n', 'Accept-Encoding: gzip\r\n']) {
    const target = headers.startsWith('Accept') ? '/page.txt' : '/big.bin';
    const connection = await connectRaw(t, port);
    connection.socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
    assert.ok(await connection.waitFor('\r\n\r\n', 2000), `a head for ${JSON.stringify(headers)}`);
    connection.socket.destroy();
  }
  assert.deepEqual(await allClosed(dir), [], 'after clients that left mid-body');
});
