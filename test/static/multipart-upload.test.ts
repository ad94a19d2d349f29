/**
 * Browser-style uploads (lib/static/multipart-upload.ts): a
 * multipart/form-data POST to a directory URL stores each file part there,
 * through real servers, with bodies built byte for byte so that hostile
 * filenames reach the server exactly as written. A bad part, an oversized
 * file, too many parts or a client that leaves mid-body store nothing and
 * leave no temp file.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { serveDirectory, type ServeDirectoryOptions } from '../../lib/index.js';
import { MAX_FORM_FILES } from '../../lib/static/multipart-upload.js';
import { ROOT } from '../support-process.js';
import { ask, connectRaw, serve, sleep, statusLines } from '../support.js';
import { allClosed } from '../support-fds.js';

const BOUNDARY = '----seattleFormBoundary7MA4YWxkTrZu0gW';
const BINARY = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 13 + 7) % 256));

function tempDir(t: TestContext): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seattle-multipart-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(t: TestContext, dir: string, options: Partial<ServeDirectoryOptions> = {}) {
  return serve(t, serveDirectory({ root: dir, list: true, upload: { dir, maxSize: 64 * 1024 }, ...options }));
}

interface Part { filename?: string; field?: string; content: Buffer | string }

/** A multipart/form-data body, written out by hand: the filename goes in as given (latin1 bytes of a UTF-8 string). */
function formBody(parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    // A text field has no Content-Type (busboy would take an application/octet-stream part for a file).
    const head = part.filename === undefined
      ? `Content-Disposition: form-data; name="${part.field ?? 'note'}"`
      : `Content-Disposition: form-data; name="${part.field ?? 'file'}"; filename="${part.filename}"\r\nContent-Type: application/octet-stream`;
    chunks.push(Buffer.from(`--${BOUNDARY}\r\n${head}\r\n\r\n`, 'utf8'));
    chunks.push(Buffer.from(part.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

function post(port: number, target: string, parts: Part[], headers: Record<string, string> = {}) {
  return ask(port, target, {
    method: 'POST',
    headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, ...headers },
    body: formBody(parts),
  });
}

/** Every name in `dir` and below, but the fixtures named in `keep`. */
function stored(dir: string, keep: string[] = []): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((name) => !keep.includes(name)).sort();
}

test('each file part is stored with its exact bytes; a script gets 201 with a JSON summary', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'sub'));
  const { port } = await start(t, dir);
  const response = await post(port, '/sub/', [
    { filename: 'data.bin', content: BINARY },
    { filename: 'héllo wörld.txt', content: 'unicode name\n' },
    { field: 'note', content: 'a text field is ignored' },
  ]);
  assert.equal(response.status, 201, response.raw);
  assert.match(response.headers['content-type'] ?? '', /^application\/json/);
  assert.deepEqual(JSON.parse(Buffer.from(response.body, 'latin1').toString('utf8')), {
    files: [
      { name: 'data.bin', size: BINARY.length, href: '/sub/data.bin' },
      { name: 'héllo wörld.txt', size: 13, href: '/sub/h%C3%A9llo%20w%C3%B6rld.txt' },
    ],
  });
  assert.ok(readFileSync(join(dir, 'sub', 'data.bin')).equals(BINARY));
  assert.equal(readFileSync(join(dir, 'sub', 'héllo wörld.txt'), 'utf8'), 'unicode name\n');
  assert.deepEqual(stored(dir), ['sub', 'sub/data.bin', 'sub/héllo wörld.txt']);
});

test('a browser (Accept: text/html) is sent back to the listing with 303; an empty file input is skipped', async (t) => {
  const dir = tempDir(t);
  const { port } = await start(t, dir);
  const response = await post(port, '/', [{ filename: '', content: '' }, { filename: 'one.txt', content: 'one' }], {
    Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  });
  assert.equal(response.status, 303);
  assert.equal(response.headers.location, '/');
  assert.equal(readFileSync(join(dir, 'one.txt'), 'utf8'), 'one');
  // Only the empty input: there is nothing to store.
  assert.equal((await post(port, '/', [{ filename: '', content: '' }])).status, 400);
});

test('a filename that is a path, a dotfile, a control character or a reserved name is refused, and nothing of the form is stored', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'sub'));
  const { port } = await start(t, dir);
  const bad: Array<[string, number]> = [
    ['../evil.txt', 400], ['sub/inner.txt', 400], ['a\\b.txt', 400], ['..', 400], ['.', 400],
    ['/etc/passwd', 400], ['x\x01y.txt', 400], ['.hidden', 403], ['.a.0123456789abcdef.upload', 403],
    ['x'.repeat(300), 414],
  ];
  for (const [name, status] of bad) {
    // A good file first: it must not be kept when a later part is bad.
    const response = await post(port, '/sub/', [{ filename: 'good.txt', content: 'good' }, { filename: name, content: 'bad' }]);
    assert.equal(response.status, status, `${JSON.stringify(name)}: ${response.raw}`);
    assert.deepEqual(stored(dir), ['sub'], JSON.stringify(name));
  }
  assert.equal(existsSync(join(dir, '..', 'evil.txt')), false);
  // Two parts with one name.
  assert.equal((await post(port, '/sub/', [{ filename: 'twice.txt', content: '1' }, { filename: 'twice.txt', content: '2' }])).status, 400);
  assert.deepEqual(stored(dir), ['sub']);
  assert.deepEqual(await allClosed(dir), [], 'every temp file handle is closed');
});

test('maxSize bounds each file and the files together (413); a large declared body is refused before 100 Continue', async (t) => {
  const dir = tempDir(t);
  const { port } = await start(t, dir, { upload: { dir, maxSize: 1000 } });
  assert.equal((await post(port, '/', [{ filename: 'exact.bin', content: Buffer.alloc(1000, 1) }])).status, 201);
  rmSync(join(dir, 'exact.bin'));
  assert.equal((await post(port, '/', [{ filename: 'big.bin', content: Buffer.alloc(1001, 1) }])).status, 413);
  assert.equal((await post(port, '/', [{ filename: 'a.bin', content: Buffer.alloc(600, 1) }, { filename: 'b.bin', content: Buffer.alloc(600, 1) }])).status, 413);
  assert.deepEqual(stored(dir), []);
  assert.deepEqual(await allClosed(dir), [], 'every temp file handle is closed');

  const connection = await connectRaw(t, port);
  connection.socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nExpect: 100-continue\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
  assert.ok(await connection.waitFor(/HTTP\/1\.1 \d{3}[^\r]*\r\n/, 2000));
  assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 413 Payload Too Large']);
});

test(`more than ${MAX_FORM_FILES} files, or more than 20 fields, in one form is 413, and none is stored`, async (t) => {
  const dir = tempDir(t);
  const { port } = await start(t, dir);
  const parts = Array.from({ length: MAX_FORM_FILES + 1 }, (_, i) => ({ filename: `f${i}.txt`, content: 'x' }));
  const response = await post(port, '/', parts);
  assert.equal(response.status, 413);
  assert.deepEqual(stored(dir), []);
  // Text fields are bounded too (20): a form of many small fields is refused the same way.
  const fields = Array.from({ length: 21 }, (_, i) => ({ field: `f${i}`, content: 'x' }));
  assert.equal((await post(port, '/', [{ filename: 'with-fields.txt', content: 'x' }, ...fields])).status, 413);
  assert.deepEqual(stored(dir), []);
  assert.equal((await post(port, '/', parts.slice(0, MAX_FORM_FILES))).status, 201);
  assert.equal(stored(dir).length, MAX_FORM_FILES);
});

test('a malformed body (no closing boundary, no boundary at all) is 400 and stores nothing', async (t) => {
  const dir = tempDir(t);
  const { port } = await start(t, dir);
  const truncated = formBody([{ filename: 'cut.txt', content: 'cut' }]).subarray(0, -10);
  const cut = await ask(port, '/', { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }, body: truncated });
  assert.equal(cut.status, 400);
  const noBoundary = await ask(port, '/', { method: 'POST', headers: { 'Content-Type': 'multipart/form-data' }, body: 'x' });
  assert.equal(noBoundary.status, 400);
  assert.deepEqual(stored(dir), []);
});

test('a client that leaves in the middle of a file leaves no temp file and no stored file', async (t) => {
  const dir = tempDir(t);
  // The upload's own clean-up runs before its callback settles: that is the moment to look at the directory.
  const files = serveDirectory({ root: dir, list: true, upload: { dir, maxSize: 64 * 1024 } });
  let settled!: () => void;
  const callbackSettled = new Promise<void>((resolve) => { settled = resolve; });
  const { port } = await serve(t, async (request) => {
    try {
      return await files(request);
    } finally {
      settled();
    }
  });
  const body = formBody([{ filename: 'first.txt', content: 'complete' }, { filename: 'partial.bin', content: Buffer.alloc(50_000, 2) }]);
  const connection = await connectRaw(t, port);
  connection.socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${body.length}\r\n\r\n`);
  connection.socket.write(body.subarray(0, 30_000));
  // Both temp files exist once the second file is being written.
  const until = Date.now() + 2000;
  while (readdirSync(dir).filter((name) => name.endsWith('.upload')).length < 2 && Date.now() < until) await sleep(5);
  assert.equal(readdirSync(dir).filter((name) => name.endsWith('.upload')).length, 2, 'the upload was under way');
  connection.socket.destroy();
  await callbackSettled;
  assert.deepEqual(readdirSync(dir), []);
  assert.deepEqual(await allClosed(dir), []);
});

test('a missing directory is 404; a form posted to a file URL is stored as that file\'s content, as any POST', async (t) => {
  const dir = tempDir(t);
  const { port } = await start(t, dir);
  assert.equal((await post(port, '/nowhere/', [{ filename: 'a.txt', content: 'a' }])).status, 404);
  const asFile = await post(port, '/form.txt', [{ filename: 'a.txt', content: 'a' }]);
  assert.equal(asFile.status, 201);
  assert.ok(readFileSync(join(dir, 'form.txt'), 'latin1').includes(BOUNDARY));
});

test('the listing offers an upload form where a POST stores into the directory shown, and the CSP lets it post', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'public'));
  mkdirSync(join(dir, 'public', 'in box'));
  writeFileSync(join(dir, 'public', 'readme.txt'), 'hi');
  const { port } = await serve(t, serveDirectory({ root: join(dir, 'public'), list: true, upload: { dir: join(dir, 'public', 'in box') } }));
  const root = await ask(port, '/');
  assert.doesNotMatch(root.body, /<form/, 'uploads do not go to /');
  const inbox = await ask(port, '/in%20box/');
  assert.match(inbox.body, /<form class="upload" method="post" action="\/" enctype="multipart\/form-data">/);
  assert.match(inbox.body, /<input type="file" name="file" multiple required>/);
  assert.doesNotMatch(inbox.body, /<script/i);
  assert.match(inbox.headers['content-security-policy'] ?? '', /default-src 'none'.*form-action 'self'/);
  // Posting where the form says lands in the directory shown, and the browser is sent back to it.
  const response = await post(port, '/', [{ filename: 'sent.txt', content: 'sent' }], { Accept: 'text/html' });
  assert.equal(response.status, 303);
  assert.equal(response.headers.location, '/in%20box/');
  assert.equal(readFileSync(join(dir, 'public', 'in box', 'sent.txt'), 'utf8'), 'sent');
  // No uploads configured: no form.
  const { port: readOnly } = await serve(t, serveDirectory({ root: join(dir, 'public'), list: true }));
  assert.doesNotMatch((await ask(readOnly, '/in%20box/')).body, /<form/);
});

test('the published declarations never name busboy, so consumers need no @types/busboy', () => {
  const declarations = (readdirSync(join(ROOT, 'dist', 'lib'), { recursive: true }) as string[]).filter((name) => name.endsWith('.d.ts') || name.endsWith('.d.mts'));
  assert.ok(declarations.includes(join('static', 'multipart-upload.d.ts')));
  for (const name of declarations) {
    assert.doesNotMatch(readFileSync(join(ROOT, 'dist', 'lib', name), 'utf8'), /busboy/i, name);
  }
});
