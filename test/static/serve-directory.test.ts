/**
 * serveDirectory over real servers: index files, types, HEAD, OPTIONS, 405,
 * conditional requests, caching, mounts, the SPA fallback, CORS, headers,
 * delegation, and the validation of its options. No request here sends
 * Range or Accept-Encoding: those answers belong to the range and
 * compression tests.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { HttpError, ValueError, sendFile, serveDirectory, text } from '../../lib/index.js';
import type { ServeDirectoryOptions } from '../../lib/index.js';
import { ask, connectRaw, errorSink, serve } from '../support.js';

const WHEN = new Date('2021-03-04T05:06:07Z');
const LAST_MODIFIED = 'Thu, 04 Mar 2021 05:06:07 GMT';
const BEFORE = 'Wed, 03 Mar 2021 05:06:07 GMT';
const LATER = 'Fri, 05 Mar 2021 05:06:07 GMT';

let base: string;
let site: string;
let other: string;
let upload: string;
const files: Record<string, string> = {
  'index.html': '<!doctype html><title>home</title>\n',
  'shell.html': '<!doctype html><title>shell</title>\n',
  'style.css': 'p { color: red }\n',
  'app.js': 'console.log("hi");\n',
  'data.json': '{"a":1}\n',
  'image.png': '\x89PNG\r\n\x1a\n',
  'no-extension': 'bytes',
  'html': 'a file named html, without extension',
  'empty.txt': '',
  'sub/index.html': '<p>sub</p>\n',
  'sub/notes.txt': 'notes\n',
  'custom/home.htm': '<p>custom index</p>\n',
  'bare/file.txt': 'no index here\n',
};

before(() => {
  base = mkdtempSync(join(tmpdir(), 'seattle-static-serve-'));
  site = join(base, 'site');
  other = join(base, 'other');
  upload = join(base, 'upload');
  for (const dir of [site, other, upload, join(site, 'sub'), join(site, 'custom'), join(site, 'bare')]) mkdirSync(dir);
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(join(site, name), Buffer.from(body, 'latin1'));
    utimesSync(join(site, name), WHEN, WHEN);
  }
  writeFileSync(join(other, 'index.html'), '<p>other</p>\n');
  writeFileSync(join(other, 'readme.txt'), 'other readme\n');
});

after(() => rmSync(base, { recursive: true, force: true }));

/** A static server whose errors (if any) fail the test. */
async function start(t: TestContext, options: Partial<ServeDirectoryOptions> = {}) {
  const sink = errorSink();
  const served = await serve(t, serveDirectory({ root: site, ...options }), { onError: sink.onError });
  t.after(() => assert.deepEqual(sink.errors.map(String), []));
  return served;
}

// Files, index, types.

test('a directory URL serves its index file; without the slash it redirects first, keeping the query', async (t) => {
  const { port } = await start(t);
  const home = await ask(port, '/');
  assert.equal(home.statusLine, 'HTTP/1.1 200 OK');
  assert.equal(home.body, files['index.html']);
  assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(home.headers['content-length'], String(files['index.html']!.length));
  assert.equal((await ask(port, '/sub/')).body, files['sub/index.html']);
  const moved = await ask(port, '/sub?x=1');
  assert.equal(moved.statusLine, 'HTTP/1.1 301 Moved Permanently');
  assert.equal(moved.headers.location, '/sub/?x=1');
  assert.equal(moved.body, '');
  // No index and no listing: 404. A file asked for as a directory: 404.
  assert.equal((await ask(port, '/bare/')).status, 404);
  assert.equal((await ask(port, '/sub/notes.txt/')).status, 404);
});

test('the index option names the files tried; false turns index files off', async (t) => {
  const custom = await start(t, { index: ['missing.html', 'home.htm'] });
  assert.equal((await ask(custom.port, '/custom/')).body, files['custom/home.htm']);
  assert.equal((await ask(custom.port, '/')).status, 404);
  const none = await start(t, { index: false });
  assert.equal((await ask(none.port, '/')).status, 404);
  assert.equal((await ask(none.port, '/index.html')).status, 200);
});

test('Content-Type comes from the extension, with a charset for text', async (t) => {
  const { port } = await start(t);
  const types: Record<string, string> = {
    'style.css': 'text/css; charset=utf-8',
    'app.js': 'text/javascript; charset=utf-8',
    'data.json': 'application/json; charset=utf-8',
    'image.png': 'image/png',
    'no-extension': 'application/octet-stream',
    html: 'application/octet-stream',
    'empty.txt': 'text/plain; charset=utf-8',
  };
  for (const [name, type] of Object.entries(types)) {
    const reply = await ask(port, `/${name}`);
    assert.equal(reply.status, 200, name);
    assert.equal(reply.headers['content-type'], type, name);
    assert.equal(reply.body, files[name], name);
    assert.equal(reply.headers['content-length'], String(files[name]!.length), name);
    assert.equal(reply.headers['transfer-encoding'], undefined, name);
  }
});

test('HEAD gets the head GET would get and no body, on a kept connection', async (t) => {
  const { port } = await start(t);
  const connection = await connectRaw(t, port);
  connection.socket.write('HEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\nGET /style.css HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(await connection.waitFor(/200 OK[^]*200 OK[^]*\r\n\r\np \{ color: red \}\n$/), connection.text);
  const [head, get] = connection.text.split(/(?=HTTP\/1\.1 200 OK)/);
  assert.match(head!, /\r\n\r\n$/, 'the HEAD answer carried a body');
  const names = (text: string) => text.split('\r\n').slice(1).filter(Boolean).map((line) => line.split(':')[0]!.toLowerCase())
    .filter((name) => name !== 'date').sort();
  assert.deepEqual(names(head!), names(get!.slice(0, get!.indexOf('\r\n\r\n'))));
  assert.match(head!, /\r\nContent-Length: 17\r\n/);
  assert.match(head!, /\r\nETag: "/);
});

// Methods.

test('OPTIONS answers 204 with Allow; other methods 405 with the same Allow', async (t) => {
  const { port } = await start(t);
  for (const target of ['/', '/style.css', '/missing', '*']) {
    const reply = await ask(port, target, { method: 'OPTIONS' });
    assert.equal(reply.statusLine, 'HTTP/1.1 204 No Content', target);
    assert.equal(reply.headers.allow, 'GET, HEAD, OPTIONS', target);
    assert.equal(reply.body, '');
  }
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'PROPFIND']) {
    const reply = await ask(port, '/style.css', { method, body: 'x' });
    assert.equal(reply.statusLine, 'HTTP/1.1 405 Method Not Allowed', method);
    assert.equal(reply.headers.allow, 'GET, HEAD, OPTIONS', method);
  }
});

test('with upload configured, Allow lists PUT and POST, and DELETE only when enabled', async (t) => {
  const writable = await start(t, { upload: { dir: upload } });
  assert.equal((await ask(writable.port, '/', { method: 'OPTIONS' })).headers.allow, 'GET, HEAD, OPTIONS, PUT, POST');
  const refused = await ask(writable.port, '/a.txt', { method: 'DELETE' });
  assert.equal(refused.status, 405);
  assert.equal(refused.headers.allow, 'GET, HEAD, OPTIONS, PUT, POST');
  const deleting = await start(t, { upload: { dir: upload, delete: true } });
  assert.equal((await ask(deleting.port, '/', { method: 'OPTIONS' })).headers.allow, 'GET, HEAD, OPTIONS, PUT, POST, DELETE');
});

test('PUT goes to the upload directory through the same callback (its answers are the upload module\'s)', async (t) => {
  const { port } = await start(t, { upload: { dir: upload } });
  const reply = await ask(port, '/sent.txt', { method: 'PUT', body: 'uploaded' });
  assert.ok(reply.status === 201 || reply.status === 204, reply.raw);
  assert.equal(readFileSync(join(upload, 'sent.txt'), 'utf8'), 'uploaded');
  assert.equal((await ask(port, '/sent.txt')).status, 404, 'the write directory is not a read directory');
});

test('list: a directory without index is listed, after the redirect to its slash form', async (t) => {
  const { port } = await start(t, { list: true });
  assert.equal((await ask(port, '/bare')).headers.location, '/bare/');
  const listing = await ask(port, '/bare/');
  assert.equal(listing.status, 200);
  assert.ok(listing.body.includes('file.txt'), listing.body);
  assert.equal((await ask(port, '/sub/')).body, files['sub/index.html'], 'an index file still wins');
});

// Conditional requests.

async function etagOf(port: number, target = '/style.css'): Promise<string> {
  const reply = await ask(port, target);
  assert.match(reply.headers.etag!, /^"[0-9a-f]+-[0-9a-f]+"$/, 'a strong ETag');
  return reply.headers.etag!;
}

test('validators: a strong ETag and Last-Modified on every file', async (t) => {
  const { port } = await start(t);
  const reply = await ask(port, '/style.css');
  assert.equal(reply.headers['last-modified'], LAST_MODIFIED);
  const etag = await etagOf(port);
  assert.equal(await etagOf(port), etag, 'stable between requests');
  assert.notEqual(await etagOf(port, '/app.js'), etag, 'different files, different tags');
});

test('If-None-Match: 304 for a match (weak comparison, lists, *), 200 otherwise; HEAD too', async (t) => {
  const { port } = await start(t);
  const etag = await etagOf(port);
  for (const value of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    for (const method of ['GET', 'HEAD']) {
      const reply = await ask(port, '/style.css', { method, headers: { 'If-None-Match': value } });
      assert.equal(reply.statusLine, 'HTTP/1.1 304 Not Modified', `${method} ${value}`);
      assert.equal(reply.body, '');
      assert.equal(reply.headers.etag, etag);
      assert.equal(reply.headers['last-modified'], LAST_MODIFIED);
      assert.equal(reply.headers['cache-control'], 'no-cache');
      assert.equal(reply.headers['content-type'], undefined, 'a 304 carries no body metadata');
    }
  }
  const stale = await ask(port, '/style.css', { headers: { 'If-None-Match': '"not-it"' } });
  assert.equal(stale.status, 200);
  assert.equal(stale.body, files['style.css']);
});

test('If-Modified-Since: 304 when not modified since, 200 when modified or the date is invalid', async (t) => {
  const { port } = await start(t);
  for (const [since, status] of [[LAST_MODIFIED, 304], [LATER, 304], [BEFORE, 200], ['not a date', 200]] as const) {
    const reply = await ask(port, '/style.css', { headers: { 'If-Modified-Since': since } });
    assert.equal(reply.status, status, since);
  }
});

test('If-None-Match wins over If-Modified-Since; a client reload (Cache-Control: no-cache) is never 304', async (t) => {
  const { port } = await start(t);
  const etag = await etagOf(port);
  const ignored = await ask(port, '/style.css', { headers: { 'If-None-Match': '"not-it"', 'If-Modified-Since': LATER } });
  assert.equal(ignored.status, 200, 'If-Modified-Since is ignored when If-None-Match is present');
  const both = await ask(port, '/style.css', { headers: { 'If-None-Match': etag, 'If-Modified-Since': BEFORE } });
  assert.equal(both.status, 304);
  const reload = await ask(port, '/style.css', { headers: { 'If-None-Match': etag, 'Cache-Control': 'no-cache' } });
  assert.equal(reload.status, 200);
});

test('If-Match: strong comparison, 412 when it fails', async (t) => {
  const { port } = await start(t);
  const etag = await etagOf(port);
  for (const [value, status] of [[etag, 200], ['*', 200], [`"a", ${etag}`, 200], ['"not-it"', 412], [`W/${etag}`, 412]] as const) {
    const reply = await ask(port, '/style.css', { headers: { 'If-Match': value } });
    assert.equal(reply.status, status, value);
    if (status === 412) {
      assert.equal(reply.statusLine, 'HTTP/1.1 412 Precondition Failed');
      assert.equal(reply.body, 'Precondition Failed\n');
    } else {
      assert.equal(reply.body, files['style.css']);
    }
  }
  assert.equal((await ask(port, '/style.css', { method: 'HEAD', headers: { 'If-Match': '"not-it"' } })).status, 412);
});

test('If-Unmodified-Since: 412 when modified since; ignored when invalid or when If-Match is present', async (t) => {
  const { port } = await start(t);
  const etag = await etagOf(port);
  const cases: Array<[Record<string, string>, number]> = [
    [{ 'If-Unmodified-Since': LAST_MODIFIED }, 200],
    [{ 'If-Unmodified-Since': LATER }, 200],
    [{ 'If-Unmodified-Since': BEFORE }, 412],
    [{ 'If-Unmodified-Since': 'garbage' }, 200],
    [{ 'If-Match': etag, 'If-Unmodified-Since': BEFORE }, 200],
  ];
  for (const [headers, status] of cases) {
    assert.equal((await ask(port, '/style.css', { headers })).status, status, JSON.stringify(headers));
  }
});

test('preconditions are checked in RFC 9110 order: a failed If-Match is 412 even when If-None-Match would be 304', async (t) => {
  const { port } = await start(t);
  const etag = await etagOf(port);
  const reply = await ask(port, '/style.css', { headers: { 'If-Match': '"not-it"', 'If-None-Match': etag } });
  assert.equal(reply.status, 412);
  const passed = await ask(port, '/style.css', { headers: { 'If-Match': etag, 'If-None-Match': etag } });
  assert.equal(passed.status, 304);
});

test('etag: false and lastModified: false drop the header and the conditions built on it', async (t) => {
  const plain = await start(t);
  const etag = await etagOf(plain.port);
  const noTag = await start(t, { etag: false });
  const reply = await ask(noTag.port, '/style.css', { headers: { 'If-None-Match': etag } });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.etag, undefined);
  assert.equal((await ask(noTag.port, '/style.css', { headers: { 'If-Modified-Since': LAST_MODIFIED } })).status, 304);
  assert.equal((await ask(noTag.port, '/style.css', { headers: { 'If-Match': etag } })).status, 412);
  const noDate = await start(t, { lastModified: false });
  const undated = await ask(noDate.port, '/style.css', { headers: { 'If-Modified-Since': LATER } });
  assert.equal(undated.status, 200);
  assert.equal(undated.headers['last-modified'], undefined);
  assert.equal((await ask(noDate.port, '/style.css', { headers: { 'If-None-Match': etag } })).status, 304);
});

// Caching and compression metadata.

test('Cache-Control: no-cache by default, the option\'s value otherwise, none with false', async (t) => {
  assert.equal((await ask((await start(t)).port, '/style.css')).headers['cache-control'], 'no-cache');
  const cached = await start(t, { cacheControl: 'public, max-age=60' });
  assert.equal((await ask(cached.port, '/style.css')).headers['cache-control'], 'public, max-age=60');
  const etag = await etagOf(cached.port);
  const revalidated = await ask(cached.port, '/style.css', { headers: { 'If-None-Match': etag } });
  assert.equal(revalidated.headers['cache-control'], 'public, max-age=60', 'kept on 304');
  const none = await start(t, { cacheControl: false });
  assert.equal((await ask(none.port, '/style.css')).headers['cache-control'], undefined);
});

test('Vary: Accept-Encoding on compressible types when compression is on; identity keeps Content-Length', async (t) => {
  const { port } = await start(t);
  const css = await ask(port, '/style.css');
  assert.equal(css.headers.vary, 'Accept-Encoding');
  assert.equal(css.headers['content-encoding'], undefined);
  assert.equal(css.headers['content-length'], String(files['style.css']!.length));
  assert.equal((await ask(port, '/image.png')).headers.vary, undefined);
  const off = await start(t, { compress: false });
  assert.equal((await ask(off.port, '/style.css')).headers.vary, undefined);
});

test('an encoded answer has a weak tag (also on its 304), no length, and HEAD does not claim 0 bytes', async (t) => {
  // Over compress.minSize (1 KiB), so the compression module is asked.
  writeFileSync(join(site, 'big.css'), 'p { color: red }\n'.repeat(200));
  t.after(() => rmSync(join(site, 'big.css')));
  const { port } = await start(t);
  const identity = await ask(port, '/big.css');
  const strong = identity.headers.etag!;
  const accept = { 'Accept-Encoding': 'gzip' };
  for (const method of ['GET', 'HEAD']) {
    const encoded = await ask(port, '/big.css', { method, headers: accept });
    assert.equal(encoded.headers['content-encoding'], 'gzip', method);
    assert.equal(encoded.headers.etag, `W/${strong}`, method);
    assert.equal(encoded.headers['content-length'], undefined, method);
    assert.equal(encoded.headers.vary, 'Accept-Encoding', method);
  }
  const revalidated = await ask(port, '/big.css', { headers: { ...accept, 'If-None-Match': `W/${strong}` } });
  assert.equal(revalidated.status, 304);
  assert.equal(revalidated.headers.etag, `W/${strong}`);
  // If-Match is about the file itself, whatever encoding would be sent.
  assert.equal((await ask(port, '/big.css', { headers: { ...accept, 'If-Match': strong } })).status, 200);
});

// Mounts.

test('several directories are mount points named after them; / is 404 unless listing is on', async (t) => {
  const { port } = await start(t, { root: [site, other] });
  assert.equal((await ask(port, '/')).status, 404);
  assert.equal((await ask(port, '/site/style.css')).body, files['style.css']);
  assert.equal((await ask(port, '/other/')).body, '<p>other</p>\n');
  assert.equal((await ask(port, '/other/readme.txt')).body, 'other readme\n');
  const moved = await ask(port, '/other');
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.location, '/other/');
  assert.equal((await ask(port, '/nowhere/readme.txt')).status, 404);
  assert.equal((await ask(port, '/style.css')).status, 404);
});

test('an object names the mount points; with list on, / lists them', async (t) => {
  const { port } = await start(t, { root: { 'my docs': other, web: site }, list: true });
  assert.equal((await ask(port, '/my%20docs/readme.txt')).body, 'other readme\n');
  assert.equal((await ask(port, '/web/sub/notes.txt')).body, 'notes\n');
  const index = await ask(port, '/');
  assert.equal(index.status, 200);
  const page = Buffer.from(index.body, 'latin1').toString();
  assert.ok(page.includes('my%20docs/') && page.includes('web/'), page);
});

test('a one-element array is a single root, as httpout treats one rdir', async (t) => {
  const { port } = await start(t, { root: [other] });
  assert.equal((await ask(port, '/readme.txt')).body, 'other readme\n');
});

// SPA fallback.

test('spa: HTML navigations that match no file get index.html; assets, other Accepts and methods do not', async (t) => {
  const { port } = await start(t, { spa: true });
  const html = { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
  for (const target of ['/app/users/42', '/login', '/sub/deep/route']) {
    const reply = await ask(port, target, { headers: html });
    assert.equal(reply.status, 200, target);
    assert.equal(reply.body, files['index.html'], target);
    assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
  }
  const head = await ask(port, '/login', { method: 'HEAD', headers: html });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(files['index.html']!.length));
  assert.equal((await ask(port, '/missing.js', { headers: html })).status, 404, 'a file extension');
  assert.equal((await ask(port, '/login', { headers: { Accept: '*/*' } })).status, 404, 'not an HTML navigation');
  assert.equal((await ask(port, '/login')).status, 404, 'no Accept');
  assert.equal((await ask(port, '/login', { headers: { Accept: 'text/html;q=0' } })).status, 404, 'HTML refused');
  assert.equal((await ask(port, '/login', { method: 'POST', headers: html, body: 'x' })).status, 405);
  assert.equal((await ask(port, '/%2e%2e/x', { headers: html })).status, 403, 'refusals are not turned into the app');
  assert.equal((await ask(port, '/sub/notes.txt', { headers: html })).body, files['sub/notes.txt'], 'real files win');
  const custom = await start(t, { spa: 'shell.html' });
  assert.equal((await ask(custom.port, '/route', { headers: html })).body, files['shell.html']);
});

// CORS and headers.

test('cors: on adds the header everywhere, auto only with Origin (and Vary: Origin), off never', async (t) => {
  const on = await start(t, { cors: 'on' });
  assert.equal((await ask(on.port, '/style.css')).headers['access-control-allow-origin'], '*');
  assert.equal((await ask(on.port, '/missing.txt')).headers['access-control-allow-origin'], '*', 'errors too');
  const auto = await start(t, { cors: 'auto' });
  const plain = await ask(auto.port, '/style.css');
  assert.equal(plain.headers['access-control-allow-origin'], undefined);
  assert.equal(plain.headers.vary, 'Accept-Encoding, Origin');
  const cross = await ask(auto.port, '/style.css', { headers: { Origin: 'http://example.com' } });
  assert.equal(cross.headers['access-control-allow-origin'], '*');
  const off = await start(t);
  assert.equal((await ask(off.port, '/style.css', { headers: { Origin: 'http://example.com' } })).headers['access-control-allow-origin'], undefined);
});

test('a CORS preflight is answered with the methods this server allows', async (t) => {
  const preflight = {
    Origin: 'http://example.com', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'x-token',
  };
  const auto = await start(t, { cors: 'auto' });
  const reply = await ask(auto.port, '/style.css', { method: 'OPTIONS', headers: preflight });
  assert.equal(reply.statusLine, 'HTTP/1.1 204 No Content');
  assert.equal(reply.headers['access-control-allow-origin'], '*');
  assert.equal(reply.headers['access-control-allow-methods'], 'GET, HEAD, OPTIONS');
  assert.equal(reply.headers['access-control-allow-headers'], 'x-token');
  assert.equal(reply.headers['access-control-max-age'], '600');
  const off = await ask((await start(t)).port, '/style.css', { method: 'OPTIONS', headers: preflight });
  assert.equal(off.headers['access-control-allow-origin'], undefined);
  assert.equal(off.headers.allow, 'GET, HEAD, OPTIONS');
});

test('headers are added to every answer; the computed ones win', async (t) => {
  const { port } = await start(t, { headers: { 'X-Content-Type-Options': 'nosniff', 'content-type': 'text/x-wrong' } });
  const file = await ask(port, '/style.css');
  assert.equal(file.headers['x-content-type-options'], 'nosniff');
  assert.equal(file.headers['content-type'], 'text/css; charset=utf-8');
  assert.equal((file.raw.match(/content-type:/gi) ?? []).length, 1);
  assert.equal((await ask(port, '/missing.txt')).headers['x-content-type-options'], 'nosniff');
  assert.equal((await ask(port, '/x', { method: 'DELETE' })).headers['x-content-type-options'], 'nosniff');
});

// Delegation and sendFile.

test('a user callback can delegate to serveDirectory, edit its answer, and catch its 404', async (t) => {
  const fromDisk = serveDirectory({ root: site });
  const sink = errorSink();
  const { port } = await serve(t, async (request) => {
    if (request.path === '/api') return text('api');
    try {
      const response = await fromDisk(request);
      return { ...response, headers: { ...response.headers, 'X-Served-By': 'static' } };
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) return text('custom not found', 404);
      throw error;
    }
  }, { onError: sink.onError });
  assert.equal((await ask(port, '/api')).body, 'api');
  const file = await ask(port, '/style.css');
  assert.equal(file.body, files['style.css']);
  assert.equal(file.headers['x-served-by'], 'static');
  const missing = await ask(port, '/nope.txt');
  assert.equal(missing.status, 404);
  assert.equal(missing.body, 'custom not found');
  assert.equal((await ask(port, '/%2e%2e/x')).status, 403, 'other refusals pass through');
  assert.deepEqual(sink.errors, []);
});

test('sendFile() with the request gets the same validators and conditional answers', async (t) => {
  const { port } = await serve(t, (request) => sendFile(join(site, 'style.css'), request), { onError: errorSink().onError });
  const first = await ask(port, '/');
  assert.match(first.headers.etag!, /^"[0-9a-f]+-[0-9a-f]+"$/);
  assert.equal(first.headers['last-modified'], LAST_MODIFIED);
  assert.equal((await ask(port, '/', { headers: { 'If-None-Match': first.headers.etag! } })).status, 304);
  assert.equal((await ask(port, '/', { headers: { 'If-Modified-Since': LAST_MODIFIED } })).status, 304);
  assert.equal((await ask(port, '/', { headers: { 'If-Match': '"not-it"' } })).status, 412);
});

test('error answers never carry a file-system path', async (t) => {
  const { port } = await start(t);
  for (const target of ['/missing.txt', '/%2e%2e/etc/passwd', '/%zz', '/a%00b', '/bare/']) {
    const reply = await ask(port, target);
    assert.ok(reply.status >= 400, target);
    assert.ok(!reply.raw.includes(base) && !reply.raw.includes('seattle-static-serve'), `${target}: ${reply.raw}`);
  }
});

// Options.

test('options are validated when serveDirectory is called, with typed errors', () => {
  const valueError = (mentions: RegExp) => (error: unknown) => {
    assert.ok(error instanceof ValueError, String(error));
    assert.match((error as Error).message, mentions);
    return true;
  };
  const typeError = (mentions: RegExp) => (error: unknown) => {
    assert.ok(error instanceof TypeError, String(error));
    assert.equal((error as { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
    assert.match((error as Error).message, mentions);
    return true;
  };
  const call = (options: unknown) => () => serveDirectory(options as ServeDirectoryOptions);
  assert.throws(call({ rot: site }), valueError(/unknown option "rot"\. Did you mean "root"\?/));
  assert.throws(call({ root: site, dotFiles: true }), valueError(/Did you mean "dotfiles"/));
  assert.throws(call({ root: site, compress: { maxsize: 1 } }), valueError(/unknown option "maxsize"\. Did you mean "maxSize"/));
  assert.throws(call({}), typeError(/"options\.root" option is required/));
  assert.throws(call(undefined), typeError(/"options" argument must be an object/));
  assert.throws(call({ root: join(base, 'missing') }), valueError(/must be an existing directory/));
  assert.throws(call({ root: join(site, 'style.css') }), valueError(/must be a directory/));
  assert.throws(call({ root: [site, join(base, 'x', 'site')] }), valueError(/must be an existing directory|mounted as "site"/));
  assert.throws(call({ root: [site, site] }), valueError(/two directories mounted as "site"/));
  assert.throws(call({ root: { 'a/b': site } }), valueError(/invalid mount name/));
  assert.throws(call({ root: 42 }), typeError(/"options\.root" option must be/));
  assert.throws(call({ root: site, cors: 'maybe' }), valueError(/"options\.cors" argument must be one of 'off', 'on', 'auto'/));
  assert.throws(call({ root: site, index: 'index.html' }), typeError(/"options\.index" option must be an array/));
  assert.throws(call({ root: site, index: ['../x'] }), valueError(/plain file name/));
  assert.throws(call({ root: site, list: 'yes' }), typeError(/"options\.list" argument must be of type boolean/));
  assert.throws(call({ root: site, cacheControl: 'a\r\nb' }), valueError(/valid header value/));
  assert.throws(call({ root: site, headers: { 'Content-Length': 1 } }), valueError(/cannot set "Content-Length"/));
  assert.throws(call({ root: site, headers: { 'bad name': 'x' } }), valueError(/invalid header "bad name"/));
  assert.throws(call({ root: site, spa: '../outside.html' }), valueError(/file path below the root/));
  assert.throws(call({ root: site, upload: { dir: upload, maxsise: 1 } }), valueError(/Did you mean "maxSize"/));
  assert.throws(call({ root: site, upload: { dir: join(base, 'none') } }), valueError(/"options\.upload\.dir" option must be an existing directory/));
  assert.equal(typeof serveDirectory({ root: site }), 'function');
});
