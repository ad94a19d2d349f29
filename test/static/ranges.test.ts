/**
 * Byte ranges (lib/static/ranges.ts) through a real server: a tiny callback
 * answers with `answerRange(...)` or, when it declines, the whole file, and
 * every answer is read off a raw socket and compared byte for byte.
 */
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import etag from 'etag';
import mime from 'mime-types';
import type { ServerOptions } from '../../lib/index.js';
import { answerRange, MAX_RANGE_SPECS, MAX_RANGES } from '../../lib/static/ranges.js';
import type { ServedFile } from '../../lib/static/served-file.js';
import { ask, errorSink, serve } from '../support.js';

const SIZE = 64 * 1024;
// Byte i is i mod 251: 251 is prime, so no power-of-two offset repeats the
// pattern, and a part taken from the wrong place does not compare equal.
const DATA = Buffer.from(Array.from({ length: SIZE }, (_, i) => i % 251));
const MODIFIED = new Date('2020-01-02T03:04:05Z');

let dir: string;
let dataPath: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'seattle-ranges-'));
  dataPath = join(dir, 'data.bin');
  writeFileSync(dataPath, DATA);
  // A fixed, old mtime: Last-Modified is known and, being long past, a strong validator.
  utimesSync(dataPath, MODIFIED, MODIFIED);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** What a ServedFile says about a file, from a stat taken now; the server opens a handle per request. */
type FileInfo = Omit<ServedFile, 'handle'>;

/** A ServedFile as the static server would build it (less the handle), without depending on serve-directory.ts. */
function servedFile(path: string, options: { weak?: boolean } = {}): FileInfo {
  const stat = statSync(path);
  return {
    path,
    stat,
    contentType: mime.contentType(basename(path)) || 'application/octet-stream',
    etag: etag(stat, { weak: options.weak ?? false }),
    lastModified: stat.mtime.toUTCString(),
  };
}

/**
 * A server for one file: the headers the full answer would carry go to
 * answerRange (Content-Length included, which ranges must replace), and the
 * whole file is sent when it declines.
 */
async function rangeServer(t: TestContext, info: FileInfo, options?: ServerOptions) {
  return serve(t, async (request) => {
    const file: ServedFile = { ...info, handle: await open(info.path) };
    const headers = {
      ETag: file.etag,
      'Last-Modified': file.lastModified,
      'Cache-Control': 'max-age=60',
      'Content-Type': file.contentType,
      'Content-Length': file.stat.size,
    };
    const partial = answerRange(request, file, headers);
    if (partial !== undefined) return partial;
    await file.handle.close();
    return { statuscode: 200, headers: { ...headers, 'Accept-Ranges': 'bytes' }, message: createReadStream(file.path) };
  }, options);
}

/** One GET (or `method`) with the given headers; the body as the exact bytes received. */
async function get(port: number, headers: Record<string, string>, method = 'GET') {
  const response = await ask(port, '/data.bin', { method, headers });
  return { ...response, bytes: Buffer.from(response.body, 'latin1') };
}

function assertFull(response: Awaited<ReturnType<typeof get>>) {
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-length'], String(SIZE));
  assert.equal(response.headers['content-range'], undefined);
  assert.ok(response.bytes.equals(DATA), 'the whole file');
}

interface Part { headers: Record<string, string>; start: number; end: number; total: number; bytes: Buffer }

/**
 * Parses the multipart/byteranges layout answerRange writes: parts
 * separated by CRLF, each `--boundary`, its headers, a blank line and as
 * many bytes as its Content-Range says; then `--boundary--` CRLF and
 * nothing more. Anything else fails the assertion.
 */
function parseMultipart(body: Buffer, contentType: string | undefined): Part[] {
  const boundary = /^multipart\/byteranges; boundary=([0-9a-z]+)$/.exec(contentType ?? '')?.[1];
  assert.ok(boundary, `a multipart/byteranges Content-Type, got ${contentType}`);
  const text = body.toString('latin1');
  const parts: Part[] = [];
  let at = 0;
  for (;;) {
    const delimiter: string = `${parts.length === 0 ? '' : '\r\n'}--${boundary}`;
    assert.equal(text.slice(at, at + delimiter.length), delimiter, `delimiter before part ${parts.length + 1}`);
    at += delimiter.length;
    if (text.startsWith('--\r\n', at)) {
      assert.equal(at + 4, text.length, 'nothing after the closing delimiter');
      return parts;
    }
    assert.equal(text.slice(at, at + 2), '\r\n');
    const headEnd = text.indexOf('\r\n\r\n', at);
    const headers: Record<string, string> = {};
    for (const line of text.slice(at + 2, headEnd).split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    at = headEnd + 4;
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(headers['content-range'] ?? '');
    assert.ok(range, `a Content-Range in part ${parts.length + 1}`);
    const start = Number(range[1]);
    const end = Number(range[2]);
    parts.push({ headers, start, end, total: Number(range[3]), bytes: body.subarray(at, at + end - start + 1) });
    at += end - start + 1;
  }
}

test('a single range answers 206 with exactly those bytes and keeps the other headers', async (t) => {
  const file = servedFile(dataPath);
  const { port } = await rangeServer(t, file);
  const cases: Array<[string, number, number]> = [
    ['bytes=0-99', 0, 99], // the first bytes
    ['bytes=1000-1999', 1000, 1999], // the middle
    ['bytes=-500', SIZE - 500, SIZE - 1], // suffix: the last 500
    ['bytes=500-', 500, SIZE - 1], // open: from 500 to the end
    ['bytes=65000-99999999', 65000, SIZE - 1], // a last position past the end is clamped
    ['bytes=-100000', 0, SIZE - 1], // a suffix longer than the file is the whole file (RFC 9110, 14.1.3)
    [`bytes=-${SIZE}`, 0, SIZE - 1],
    ['Bytes=7-7', 7, 7], // the unit is case-insensitive
  ];
  for (const [range, start, end] of cases) {
    const response = await get(port, { Range: range });
    assert.equal(response.status, 206, range);
    assert.equal(response.statusLine, 'HTTP/1.1 206 Partial Content');
    assert.equal(response.headers['content-range'], `bytes ${start}-${end}/${SIZE}`, range);
    assert.equal(response.headers['content-length'], String(end - start + 1), range);
    assert.equal(response.headers['accept-ranges'], 'bytes');
    assert.equal(response.headers['content-type'], 'application/octet-stream');
    assert.equal(response.headers['etag'], file.etag);
    assert.equal(response.headers['last-modified'], 'Thu, 02 Jan 2020 03:04:05 GMT');
    assert.equal(response.headers['cache-control'], 'max-age=60');
    assert.ok(response.bytes.equals(DATA.subarray(start, end + 1)), `bytes of ${range}`);
  }
});

test('several ranges answer multipart/byteranges with an exact Content-Length, in the order asked', async (t) => {
  const file = servedFile(dataPath);
  const { port } = await rangeServer(t, file);
  const response = await get(port, { Range: 'bytes=40000-40009, 0-9,100-199, -5' });
  assert.equal(response.status, 206);
  assert.equal(response.headers['content-length'], String(response.bytes.length));
  assert.equal(response.headers['content-range'], undefined, 'a multipart answer has Content-Range only in its parts');
  assert.equal(response.headers['accept-ranges'], 'bytes');
  assert.equal(response.headers['etag'], file.etag);
  const parts = parseMultipart(response.bytes, response.headers['content-type']);
  assert.deepEqual(parts.map(({ start, end }) => [start, end]), [[40000, 40009], [0, 9], [100, 199], [SIZE - 5, SIZE - 1]]);
  for (const part of parts) {
    assert.equal(part.headers['content-type'], 'application/octet-stream');
    assert.equal(part.total, SIZE);
    assert.ok(part.bytes.equals(DATA.subarray(part.start, part.end + 1)), `bytes ${part.start}-${part.end}`);
  }
});

test('each multipart answer gets its own boundary', async (t) => {
  const { port } = await rangeServer(t, servedFile(dataPath));
  const first = await get(port, { Range: 'bytes=0-0,2-2' });
  const second = await get(port, { Range: 'bytes=0-0,2-2' });
  assert.match(first.headers['content-type']!, /^multipart\/byteranges; boundary=/);
  assert.notEqual(first.headers['content-type'], second.headers['content-type']);
});

test('overlapping and adjacent ranges are merged, so no byte is sent twice', async (t) => {
  const { port } = await rangeServer(t, servedFile(dataPath));

  // 0-99 and 50-149 overlap, 150-199 touches them: one range.
  const merged = await get(port, { Range: 'bytes=0-99,50-149,150-199' });
  assert.equal(merged.status, 206);
  assert.equal(merged.headers['content-range'], `bytes 0-199/${SIZE}`);
  assert.ok(merged.bytes.equals(DATA.subarray(0, 200)));

  // Merged ranges keep the place of the first of them.
  const two = await get(port, { Range: 'bytes=500-599,5-20,0-9' });
  const parts = parseMultipart(two.bytes, two.headers['content-type']);
  assert.deepEqual(parts.map(({ start, end }) => [start, end]), [[500, 599], [0, 20]]);
  for (const part of parts) assert.ok(part.bytes.equals(DATA.subarray(part.start, part.end + 1)));

  // The whole file asked for many times over is sent once.
  const repeated = await get(port, { Range: `bytes=${Array(150).fill('0-').join(',')}` });
  assert.equal(repeated.status, 206);
  assert.equal(repeated.headers['content-range'], `bytes 0-${SIZE - 1}/${SIZE}`);
  assert.ok(repeated.bytes.equals(DATA));
});

test('ranges that all miss the file answer 416 with bytes */size and no body', async (t) => {
  const file = servedFile(dataPath);
  const { port } = await rangeServer(t, file);
  // Past the end; a zero-length suffix; first > last (range-parser counts it as unsatisfiable, which RFC 9110 allows).
  for (const range of [`bytes=${SIZE}-`, 'bytes=70000-70010,99999-', 'bytes=-0', 'bytes=10-5']) {
    const response = await get(port, { Range: range });
    assert.equal(response.status, 416, range);
    assert.equal(response.statusLine, 'HTTP/1.1 416 Range Not Satisfiable');
    assert.equal(response.headers['content-range'], `bytes */${SIZE}`);
    assert.equal(response.headers['content-length'], '0');
    assert.equal(response.headers['content-type'], undefined, 'no type for an empty body');
    assert.equal(response.headers['etag'], file.etag);
    assert.equal(response.body, '');
  }
  // One range inside the file is enough: the others are dropped.
  const some = await get(port, { Range: `bytes=${SIZE + 10}-,3-5` });
  assert.equal(some.status, 206);
  assert.equal(some.headers['content-range'], `bytes 3-5/${SIZE}`);
  assert.ok(some.bytes.equals(DATA.subarray(3, 6)));
});

test('a Range header that cannot be parsed, or another unit, is ignored: the whole file', async (t) => {
  const { port } = await rangeServer(t, servedFile(dataPath));
  for (const range of ['bytes', 'bytes=', 'bytes=abc', 'bytes=5-x', 'bytes=1-2-3', 'bytes=0-1,,', 'bytes=0x10-20', 'items=0-5', '=0-5', 'bytes 0-5']) {
    assertFull(await get(port, { Range: range }));
  }
  // Two Range fields arrive joined with a comma, which no longer parses.
  const twice = await ask(port, '/data.bin', { headers: { Range: 'bytes=0-1\r\nRange: bytes=2-3' } });
  assert.equal(twice.status, 200);
});

test('If-Range lets the range through only for the current strong ETag or Last-Modified date', async (t) => {
  const file = servedFile(dataPath);
  assert.ok(!file.etag.startsWith('W/'));
  const { port } = await rangeServer(t, file);
  const partial = async (ifRange: string) => get(port, { Range: 'bytes=10-19', 'If-Range': ifRange });

  const sameTag = await partial(file.etag);
  assert.equal(sameTag.status, 206);
  assert.ok(sameTag.bytes.equals(DATA.subarray(10, 20)));
  const sameDate = await partial(file.lastModified);
  assert.equal(sameDate.status, 206);
  // The same instant in the obsolete RFC 850 form is the same date.
  assert.equal((await partial('Thursday, 02-Jan-20 03:04:05 GMT')).status, 206);

  // The file changed since the client's copy: send all of it.
  assertFull(await partial('"something-else"'));
  assertFull(await partial('Thu, 02 Jan 2020 03:04:06 GMT'));
  assertFull(await partial('Thu, 02 Jan 2020 03:04:04 GMT'));
  // A weak tag never matches in If-Range, even with the same opaque value (strong comparison).
  assertFull(await partial(`W/${file.etag}`));
  assertFull(await partial('not a date'));

  // Without Range, If-Range means nothing.
  assertFull(await get(port, { 'If-Range': '"something-else"' }));
});

test('a weak ETag on the file never satisfies If-Range', async (t) => {
  const file = servedFile(dataPath, { weak: true });
  assert.ok(file.etag.startsWith('W/'));
  const { port } = await rangeServer(t, file);
  assertFull(await get(port, { Range: 'bytes=10-19', 'If-Range': file.etag }));
  assertFull(await get(port, { Range: 'bytes=10-19', 'If-Range': file.etag.slice(2) }));
  // The date still works for such a file.
  assert.equal((await get(port, { Range: 'bytes=10-19', 'If-Range': file.lastModified })).status, 206);
});

test('an If-Range date is no validator for a file modified in the current second or later', async (t) => {
  const path = join(dir, 'fresh.bin');
  writeFileSync(path, DATA);
  // A modification time a minute ahead stands in for "just now" without depending on timing.
  const soon = new Date(Math.floor(Date.now() / 1000) * 1000 + 60_000);
  utimesSync(path, soon, soon);
  const file = servedFile(path);
  const { port } = await rangeServer(t, file);
  assertFull(await get(port, { Range: 'bytes=10-19', 'If-Range': file.lastModified }));
  assert.equal((await get(port, { Range: 'bytes=10-19', 'If-Range': file.etag })).status, 206);
});

test('Range applies only to GET: HEAD and POST describe or get the full answer', async (t) => {
  const { port } = await rangeServer(t, servedFile(dataPath));
  const head = await get(port, { Range: 'bytes=0-9' }, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(SIZE));
  assert.equal(head.headers['content-range'], undefined);
  assert.equal(head.body, '');
  assertFull(await get(port, { Range: 'bytes=0-9' }, 'POST'));
});

test(`up to ${MAX_RANGES} ranges are served; more, after merging, get the whole file`, async (t) => {
  const { port } = await rangeServer(t, servedFile(dataPath));
  const spaced = (count: number) => `bytes=${Array.from({ length: count }, (_, i) => `${i * 100}-${i * 100 + 9}`).join(',')}`;
  // All parts read the one handle: no per-part listener piles up on it (Node warns past 10).
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => { warnings.push(warning); };
  process.on('warning', onWarning);
  t.after(() => { process.off('warning', onWarning); });

  const most = await get(port, { Range: spaced(MAX_RANGES) });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(warnings.map((warning) => warning.message), []);
  assert.equal(most.status, 206);
  const parts = parseMultipart(most.bytes, most.headers['content-type']);
  assert.equal(parts.length, MAX_RANGES);
  for (const part of parts) assert.ok(part.bytes.equals(DATA.subarray(part.start, part.end + 1)));

  assertFull(await get(port, { Range: spaced(MAX_RANGES + 1) }));

  // Many specs that merge into few are fine while there are at most MAX_RANGE_SPECS of them ...
  const overlapping = await get(port, { Range: `bytes=${Array(MAX_RANGE_SPECS).fill('0-0').join(',')}` });
  assert.equal(overlapping.status, 206);
  assert.equal(overlapping.headers['content-range'], `bytes 0-0/${SIZE}`);
  // ... one more and the header is not even parsed.
  assertFull(await get(port, { Range: `bytes=${Array(MAX_RANGE_SPECS + 1).fill('0-0').join(',')}` }));
});

test('10,000 tiny ranges cost little: the whole file, quickly', async (t) => {
  const file = servedFile(dataPath);
  let spent = 0;
  // The default 16 KiB head limit would refuse this header (431) before the callback runs; raise it so
  // the header reaches answerRange and its own bound is what is tested.
  const { port } = await serve(t, async (request) => {
    const opened: ServedFile = { ...file, handle: await open(file.path) };
    const began = performance.now();
    const answer = answerRange(request, opened, { ETag: file.etag });
    spent += performance.now() - began;
    if (answer !== undefined) return answer;
    return { statuscode: 200, headers: { 'Content-Length': file.stat.size }, message: opened.handle.createReadStream() };
  }, { maxHeaderSize: 256 * 1024 });
  const range = `bytes=${Array.from({ length: 10_000 }, (_, i) => `${i * 2}-${i * 2}`).join(',')}`;
  assert.ok(range.length > 100_000);

  const began = performance.now();
  const response = await get(port, { Range: range });
  const elapsed = performance.now() - began;
  assertFull(response);
  assert.ok(elapsed < 1000, `answered in ${elapsed.toFixed(0)} ms`);
  assert.ok(spent < 20, `answerRange took ${spent.toFixed(2)} ms`);
});

test('an empty file: 416 for positions, the (empty) whole for a suffix, which a 206 could not express', async (t) => {
  const path = join(dir, 'empty.txt');
  writeFileSync(path, '');
  const file = servedFile(path);
  const { port } = await rangeServer(t, file);
  const response = await ask(port, '/empty.txt', { headers: { Range: 'bytes=0-' } });
  assert.equal(response.status, 416);
  assert.equal(response.headers['content-range'], 'bytes */0');
  const suffix = await ask(port, '/empty.txt', { headers: { Range: 'bytes=-5' } });
  assert.equal(suffix.status, 200);
  assert.equal(suffix.headers['content-length'], '0');
  assert.equal(suffix.body, '');
});

test('a file that shrank after its stat cuts the multipart answer short instead of mislabelling it', async (t) => {
  const path = join(dir, 'shrinks.bin');
  writeFileSync(path, DATA);
  const file = servedFile(path);
  writeFileSync(path, DATA.subarray(0, 100));
  const sink = errorSink();
  const { port } = await rangeServer(t, file, { onError: sink.onError });
  const response = await get(port, { Range: 'bytes=0-9,1000-1009' });
  assert.equal(response.status, 206);
  assert.ok(response.bytes.length < Number(response.headers['content-length']), 'fewer bytes than announced');
  assert.equal(response.closed, true, 'the connection is closed so the client sees the answer is incomplete');
  // 10 + 10 part bytes announced, 10 + 0 delivered: the library reports where the file ran out.
  assert.deepEqual(sink.errors.map((error) => error.message), ['The file ended at byte 1000, before the range\'s end (1009)']);
});
