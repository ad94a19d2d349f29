/**
 * What serveDirectory compresses, and how: binary and unknown types are
 * sent as they are (regression: application/octet-stream and files without
 * an extension were brotli-coded and chunked), on-the-fly brotli runs at a
 * fast quality, and precompressed `.br`/`.gz` siblings are sent instead of
 * the file, with a length, their own ETag, and ranges over their bytes.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import zlib from 'node:zlib';
import { serveDirectory, type ServeDirectoryOptions } from '../../lib/index.js';
import { serve } from '../support.js';

/** Compressible text that is not one repeated byte. */
function textOf(length: number): Buffer {
  let text = '';
  for (let line = 0; text.length < length; line++) text += `line ${line}: the quick brown fox jumps over the lazy dog\n`;
  return Buffer.from(text.slice(0, length));
}

const SCRIPT = textOf(50_000);
const SCRIPT_BR = zlib.brotliCompressSync(SCRIPT, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
const SCRIPT_GZ = zlib.gzipSync(SCRIPT, { level: 9 });

function site(t: TestContext): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seattle-precompressed-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'root'));
  const root = join(dir, 'root');
  writeFileSync(join(root, 'app.js'), SCRIPT);
  writeFileSync(join(root, 'app.js.br'), SCRIPT_BR);
  writeFileSync(join(root, 'app.js.gz'), SCRIPT_GZ);
  writeFileSync(join(root, 'blob.bin'), textOf(20_000));
  writeFileSync(join(root, 'README'), textOf(20_000));
  writeFileSync(join(root, 'style.css'), textOf(20_000));
  return dir;
}

async function start(t: TestContext, root: string, options: Partial<ServeDirectoryOptions> = {}) {
  return serve(t, serveDirectory({ root, ...options }));
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, headers, method }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (chunk: Buffer) => parts.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(parts) }));
    });
    request.on('error', reject);
    request.end();
  });
}

test('application/octet-stream and files without an extension are never compressed on the fly', async (t) => {
  const root = join(site(t), 'root');
  const { port } = await start(t, root);
  for (const path of ['/blob.bin', '/README']) {
    const response = await get(port, path, { 'Accept-Encoding': 'br, gzip, deflate' });
    assert.equal(response.headers['content-type'], 'application/octet-stream', path);
    assert.equal(response.headers['content-encoding'], undefined, path);
    assert.equal(response.headers['content-length'], String(response.body.length), path);
    assert.equal(response.headers['transfer-encoding'], undefined, path);
    assert.equal(response.headers.vary, undefined, path);
  }
  // Text still is.
  const css = await get(port, '/style.css', { 'Accept-Encoding': 'br' });
  assert.equal(css.headers['content-encoding'], 'br');
  assert.ok(zlib.brotliDecompressSync(css.body).equals(textOf(20_000)));
});

test('on-the-fly brotli uses quality 4 (fast), not brotli\'s default 11', async (t) => {
  const root = join(site(t), 'root');
  const { port } = await start(t, root, { precompressed: false });
  const response = await get(port, '/app.js', { 'Accept-Encoding': 'br' });
  assert.equal(response.headers['content-encoding'], 'br');
  // Brotli output is deterministic for given parameters: the bytes show the quality used.
  const fast = zlib.brotliCompressSync(SCRIPT, { params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 4,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: SCRIPT.length,
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_GENERIC,
  } });
  assert.ok(response.body.equals(fast), `quality 4 output (${fast.length} bytes), got ${response.body.length} bytes`);
  assert.notEqual(SCRIPT_BR.length, fast.length, 'the two qualities are told apart by size');
});

test('a .br or .gz sibling is sent as it is, by the client\'s preference, with length, type, encoding, Vary and its own ETag', async (t) => {
  const root = join(site(t), 'root');
  const { port } = await start(t, root);
  const identity = await get(port, '/app.js');
  assert.ok(identity.body.equals(SCRIPT));
  assert.equal(identity.headers['content-encoding'], undefined);

  const cases: Array<[string, string, Buffer]> = [
    ['br, gzip', 'br', SCRIPT_BR],
    ['gzip, deflate', 'gzip', SCRIPT_GZ],
    ['gzip;q=1, br;q=0.5', 'gzip', SCRIPT_GZ],
  ];
  for (const [accept, coding, bytes] of cases) {
    const response = await get(port, '/app.js', { 'Accept-Encoding': accept });
    assert.equal(response.status, 200, accept);
    assert.equal(response.headers['content-encoding'], coding, accept);
    assert.equal(response.headers['content-type'], 'text/javascript; charset=utf-8', accept);
    assert.equal(response.headers['content-length'], String(bytes.length), accept);
    assert.equal(response.headers.vary, 'Accept-Encoding', accept);
    assert.ok(response.body.equals(bytes), accept);
    assert.match(response.headers.etag ?? '', new RegExp(`^"[^"]+-${coding}"$`), accept);
    assert.notEqual(response.headers.etag, identity.headers.etag, accept);
    const head = await get(port, '/app.js', { 'Accept-Encoding': accept }, 'HEAD');
    assert.equal(head.headers['content-length'], String(bytes.length), `HEAD ${accept}`);
    const cached = await get(port, '/app.js', { 'Accept-Encoding': accept, 'If-None-Match': response.headers.etag! });
    assert.equal(cached.status, 304, `revalidation ${accept}`);
  }
  // identity ranked first: the file itself.
  const plain = await get(port, '/app.js', { 'Accept-Encoding': 'identity, br;q=0.5' });
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.ok(plain.body.equals(SCRIPT));
});

test('ranges of a precompressed answer address the encoded bytes', async (t) => {
  const root = join(site(t), 'root');
  const { port } = await start(t, root);
  const response = await get(port, '/app.js', { 'Accept-Encoding': 'br', Range: 'bytes=10-29' });
  assert.equal(response.status, 206);
  assert.equal(response.headers['content-encoding'], 'br');
  assert.equal(response.headers['content-range'], `bytes 10-29/${SCRIPT_BR.length}`);
  assert.ok(response.body.equals(SCRIPT_BR.subarray(10, 30)));
});

test('the siblings stay downloadable by their own names, as they are', async (t) => {
  const root = join(site(t), 'root');
  const { port } = await start(t, root);
  const br = await get(port, '/app.js.br', { 'Accept-Encoding': 'br, gzip' });
  assert.equal(br.headers['content-encoding'], undefined);
  assert.ok(br.body.equals(SCRIPT_BR));
  const gz = await get(port, '/app.js.gz', { 'Accept-Encoding': 'br, gzip' });
  assert.equal(gz.headers['content-encoding'], undefined);
  assert.ok(gz.body.equals(SCRIPT_GZ));
});

test('a sibling must pass the path checks: a symlink out of the root, or to a hidden file, is not used', async (t) => {
  const dir = site(t);
  const root = join(dir, 'root');
  writeFileSync(join(dir, 'outside.br'), zlib.brotliCompressSync('secret from outside the root'));
  writeFileSync(join(root, 'escape.js'), SCRIPT);
  symlinkSync(join(dir, 'outside.br'), join(root, 'escape.js.br'));
  writeFileSync(join(root, '.hidden.br'), zlib.brotliCompressSync('hidden'));
  writeFileSync(join(root, 'hidden.js'), SCRIPT);
  symlinkSync(join(root, '.hidden.br'), join(root, 'hidden.js.br'));
  const { port } = await start(t, root);
  for (const path of ['/escape.js', '/hidden.js']) {
    const response = await get(port, path, { 'Accept-Encoding': 'br' });
    // Not the sibling: the file itself, compressed on the fly.
    assert.equal(response.headers['content-length'], undefined, path);
    assert.ok(zlib.brotliDecompressSync(response.body).equals(SCRIPT), path);
  }
  assert.equal(readFileSync(join(dir, 'outside.br')).length > 0, true);
});

test('precompressed: false ignores the siblings', async (t) => {
  const root = join(site(t), 'root');
  const { port } = await start(t, root, { precompressed: false, compress: false });
  const response = await get(port, '/app.js', { 'Accept-Encoding': 'br' });
  assert.equal(response.headers['content-encoding'], undefined);
  assert.ok(response.body.equals(SCRIPT));
});
