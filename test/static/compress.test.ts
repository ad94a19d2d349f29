/**
 * On-the-fly compression (lib/static/compress.ts) through a real server: a
 * tiny callback negotiates with chooseEncoding and sends encodedStream, and
 * each answer is read off a raw socket, de-chunked and decoded with zlib's
 * synchronous decoders back to the file's exact bytes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, test, type TestContext } from 'node:test';
import zlib from 'node:zlib';
import etag from 'etag';
import mime from 'mime-types';
import type { ServerOptions } from '../../lib/index.js';
import { chooseEncoding, encodedStream, type CompressOptions } from '../../lib/static/compress.js';
import type { ServedFile } from '../../lib/static/served-file.js';
import { ask, decodeChunked, errorSink, serve } from '../support.js';

const LIMITS: CompressOptions = { minSize: 1000, maxSize: 40_000 };

/** Text that compresses well but is not one repeated byte: numbered lines. */
function textOf(length: number): Buffer {
  let text = '';
  for (let line = 0; text.length < length; line++) text += `<p>line ${line}: the quick brown fox jumps over the lazy dog</p>\n`;
  return Buffer.from(text.slice(0, length));
}

const FILES: Record<string, Buffer> = {
  'page.html': textOf(20_000),
  'at-min.txt': textOf(LIMITS.minSize),
  'below-min.txt': textOf(LIMITS.minSize - 1),
  'at-max.txt': textOf(LIMITS.maxSize),
  'above-max.txt': textOf(LIMITS.maxSize + 1),
  // Same compressible bytes, but image/png is not a compressible type.
  'image.png': textOf(20_000),
  'data.json': textOf(5_000),
};

let dir: string;
const served: Record<string, string> = {};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'seattle-compress-'));
  for (const [name, bytes] of Object.entries(FILES)) {
    writeFileSync(join(dir, name), bytes);
    served[`/${name}`] = join(dir, name);
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A ServedFile as the static server would build it (an open handle, its fstat), without depending on serve-directory.ts. */
async function servedFile(path: string): Promise<ServedFile> {
  const handle = await open(path);
  const stat = await handle.stat();
  return {
    path,
    handle,
    stat,
    contentType: mime.contentType(basename(path)) || 'application/octet-stream',
    etag: etag(stat),
    lastModified: stat.mtime.toUTCString(),
  };
}

/** Serves the fixture files, compressed when chooseEncoding says so (streamed, hence chunked either way). */
async function compressServer(t: TestContext, options?: ServerOptions) {
  return serve(t, async (request) => {
    const path = served[request.path];
    if (!path) return { statuscode: 404 };
    const file = await servedFile(path);
    const headers = { 'Content-Type': file.contentType, Vary: 'Accept-Encoding' };
    const encoding = chooseEncoding(request, file, LIMITS);
    if (encoding === undefined) return { statuscode: 200, headers, message: file.handle.createReadStream() };
    return { statuscode: 200, headers: { ...headers, 'Content-Encoding': encoding }, message: encodedStream(file, encoding) };
  }, options);
}

/** GET `path` with `Accept-Encoding` (when given); the de-chunked body as exact bytes. */
async function get(port: number, path: string, acceptEncoding?: string) {
  const response = await ask(port, path, { headers: acceptEncoding === undefined ? {} : { 'Accept-Encoding': acceptEncoding } });
  assert.equal(response.status, 200);
  assert.equal(response.headers['transfer-encoding'], 'chunked');
  const { body, complete } = decodeChunked(response.body);
  assert.ok(complete, 'the chunked body ends with its last chunk');
  return { ...response, bytes: Buffer.from(body, 'latin1') };
}

const DECODERS = { br: zlib.brotliDecompressSync, gzip: zlib.gunzipSync, deflate: zlib.inflateSync } as const;

test('gzip, br and deflate answers decode back to the exact file', async (t) => {
  const { port } = await compressServer(t);
  for (const path of ['/page.html', '/data.json']) {
    const original = FILES[path.slice(1)]!;
    for (const [encoding, decode] of Object.entries(DECODERS)) {
      const response = await get(port, path, encoding);
      assert.equal(response.headers['content-encoding'], encoding);
      assert.equal(response.headers['vary'], 'Accept-Encoding');
      assert.equal(response.headers['content-length'], undefined, 'a stream compressed on the fly has no known length');
      assert.ok(response.bytes.length < original.length / 2, `${encoding} of ${path}: ${response.bytes.length} bytes`);
      // inflateSync accepts only the zlib format: "deflate" must not be raw deflate.
      assert.ok(decode(response.bytes).equals(original), `${encoding} of ${path} decodes to the file`);
    }
  }
});

test('Accept-Encoding is negotiated by q-value, then br, gzip, deflate', async (t) => {
  const { port } = await compressServer(t);
  const cases: Array<[string | undefined, string | undefined]> = [
    ['gzip, deflate, br', 'br'], // equal q: our preference, not the client's order
    ['deflate, gzip', 'gzip'],
    ['gzip;q=1, br;q=0.5', 'gzip'],
    ['deflate, gzip;q=0.9', 'deflate'],
    ['br;q=0.1, deflate;q=0.2', 'deflate'],
    ['GZIP', 'gzip'], // coding names are case-insensitive
    ['*', 'br'],
    ['br;q=0, *', 'gzip'], // an explicit q=0 beats the wildcard
    ['*;q=0.5, deflate', 'deflate'],
    ['identity;q=0, gzip;q=0.1', 'gzip'],
    ['gzip;q=0.5, identity', undefined], // the client prefers the plain file
    ['gzip;q=0', undefined],
    ['br;q=0, gzip;q=0, deflate;q=0', undefined],
    // Nothing we speak is acceptable and identity is refused: the plain file anyway (no 406 for a static file).
    ['identity;q=0', undefined],
    ['compress, x-unknown', undefined],
    ['', undefined],
    [undefined, undefined], // no Accept-Encoding: identity, as every common server does
  ];
  for (const [accept, expected] of cases) {
    const response = await get(port, '/page.html', accept);
    assert.equal(response.headers['content-encoding'], expected, `Accept-Encoding: ${accept}`);
    const bytes = expected === undefined ? response.bytes : DECODERS[expected as keyof typeof DECODERS](response.bytes);
    assert.ok(bytes.equals(FILES['page.html']!), `Accept-Encoding: ${accept}`);
  }
});

test('types that do not compress, and files outside minSize..maxSize, are sent as they are', async (t) => {
  const { port } = await compressServer(t);
  for (const [path, compressed] of [
    ['/image.png', false],
    ['/below-min.txt', false],
    ['/at-min.txt', true],
    ['/at-max.txt', true],
    ['/above-max.txt', false],
  ] as const) {
    const response = await get(port, path, 'br, gzip, deflate');
    assert.equal(response.headers['content-encoding'], compressed ? 'br' : undefined, path);
    const bytes = compressed ? zlib.brotliDecompressSync(response.bytes) : response.bytes;
    assert.ok(bytes.equals(FILES[path.slice(1)]!), path);
  }
});

test('a read error destroys the compressed stream with that error', async () => {
  // Opening a directory succeeds; reading it fails with EISDIR, after the encoder exists.
  const folder = join(dir, 'folder.txt');
  mkdirSync(folder);
  for (const encoding of ['br', 'gzip', 'deflate'] as const) {
    const file: ServedFile = { ...await servedFile(folder), contentType: 'text/plain; charset=utf-8' };
    await assert.rejects(buffer(encodedStream(file, encoding)), { code: 'EISDIR' }, encoding);
  }
});

test('through the server, a read error cuts the chunked answer short instead of ending it cleanly', async (t) => {
  const folder = join(dir, 'unreadable.txt');
  mkdirSync(folder);
  const sink = errorSink();
  const { port } = await serve(t, async () => ({
    statuscode: 200,
    headers: { 'Content-Encoding': 'gzip' },
    message: encodedStream({ ...await servedFile(folder), contentType: 'text/plain; charset=utf-8' }, 'gzip'),
  }), { onError: sink.onError });
  const response = await ask(port, '/');
  // The head may or may not have gone out before the error; either way there is no final empty chunk.
  if (response.status === 200) assert.equal(decodeChunked(response.body).complete, false);
  assert.equal(response.closed, true);
  assert.ok(sink.errors.some((error) => (error as NodeJS.ErrnoException).code === 'EISDIR'), String(sink.errors));
});
