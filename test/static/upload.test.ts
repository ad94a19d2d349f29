/**
 * Uploads into a write directory (lib/static/upload.ts) through real servers
 * and raw sockets: what lands on disk, what is refused before the body is
 * asked for, and that an upload cut short leaves the old file and no temp file.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { uploadResponse, type UploadOptions } from '../../lib/static/upload.js';
import { ask, connectRaw, errorSink, serve, sleep, statusLines } from '../support.js';

/** A fresh directory, as its real path (the contract of `UploadOptions.dir`), removed after the test. */
function tempDir(t: TestContext, label = 'upload'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `seattle-${label}-`)));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Serves uploads into `dir` with the whole request path as the path in the directory. */
async function uploadServer(t: TestContext, dir: string, options: Partial<UploadOptions> = {}) {
  const sink = errorSink();
  // The write directory is also the served root here, so a stored file's Location is its path.
  const settings: UploadOptions = {
    dir, maxSize: 1024 * 1024, partial: false, allowDelete: false, dotfiles: false,
    served: { mounts: [{ name: '', root: dir }], single: true, dotfiles: false }, ...options,
  };
  const served = await serve(t, (request) => uploadResponse(request, request.path, settings), { onError: sink.onError });
  return { ...served, errors: sink.errors };
}

/** Names in `dir` that are upload temp files. */
function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.upload'));
}

/** Polls until `check` holds, for at most `ms`; returns whether it did. */
async function eventually(check: () => boolean, ms = 1000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (check()) return true;
    if (Date.now() > until) return false;
    await sleep(10);
  }
}

/** Every byte value, so that encodings and text decoding would show up as a difference on disk. */
const BINARY = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));

function head(method: string, target: string, headers: string): string {
  return `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`;
}

describe('uploadResponse: storing a body', () => {
  it('PUT of a new file answers 201 with Location and stores the exact bytes', async (t) => {
    const dir = tempDir(t);
    const { port, errors } = await uploadServer(t, dir);
    const response = await ask(port, '/new.bin', { method: 'PUT', body: BINARY });
    assert.equal(response.status, 201);
    assert.equal(response.headers.location, '/new.bin');
    assert.deepEqual(readFileSync(join(dir, 'new.bin')), BINARY);
    assert.deepEqual(tempFiles(dir), []);
    assert.deepEqual(errors, []);
  });

  it('PUT over an existing file answers 204, replaces it whole and keeps its permissions', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'old.txt'), 'the old content, longer than the new one\n');
    chmodSync(join(dir, 'old.txt'), 0o600);
    const { port, errors } = await uploadServer(t, dir);
    const response = await ask(port, '/old.txt', { method: 'PUT', body: 'new\n' });
    assert.equal(response.status, 204);
    assert.equal(response.body, '');
    assert.equal(readFileSync(join(dir, 'old.txt'), 'utf8'), 'new\n');
    assert.equal(statSync(join(dir, 'old.txt')).mode & 0o777, 0o600);
    assert.deepEqual(tempFiles(dir), []);
    assert.deepEqual(errors, []);
  });

  it('POST stores like PUT, and an empty body makes an empty file', async (t) => {
    const dir = tempDir(t);
    const { port } = await uploadServer(t, dir);
    assert.equal((await ask(port, '/posted.txt', { method: 'POST', body: 'posted' })).status, 201);
    assert.equal(readFileSync(join(dir, 'posted.txt'), 'utf8'), 'posted');
    assert.equal((await ask(port, '/empty.txt', { method: 'PUT', body: '' })).status, 201);
    assert.equal(statSync(join(dir, 'empty.txt')).size, 0);
  });

  it('stores a chunked body into a subdirectory that exists', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'sub'));
    const { port } = await uploadServer(t, dir);
    const connection = await connectRaw(t, port);
    connection.socket.write(`${head('PUT', '/sub/chunked.txt', 'Transfer-Encoding: chunked\r\n')}5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`);
    assert.ok(await connection.waitFor('\r\n\r\n'));
    assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 201 Created']);
    assert.match(connection.text, /\r\nLocation: \/sub\/chunked\.txt\r\n/i);
    assert.equal(readFileSync(join(dir, 'sub', 'chunked.txt'), 'utf8'), 'hello world');
  });

  it('stores hostile names exactly as decoded: spaces, unicode, a..b, a very long name', async (t) => {
    const dir = tempDir(t);
    const { port, errors } = await uploadServer(t, dir);
    // 240 bytes: the name fits a file system's 255, its temp name would not unless it is cut.
    const long = `${'é'.repeat(100)}${'x'.repeat(36)}.txt`;
    const names = ['a b.txt', 'héllo wörld 世界.txt', 'a..b', "it's (1) [x].txt", long];
    for (const name of names) {
      const target = `/${encodeURIComponent(name)}`;
      const response = await ask(port, target, { method: 'PUT', body: `content of ${name}` });
      assert.equal(response.status, 201, name);
      assert.equal(response.headers.location, target, name);
      assert.equal(readFileSync(join(dir, name), 'utf8'), `content of ${name}`, name);
    }
    assert.deepEqual(readdirSync(dir).sort(), [...names].sort());
    assert.deepEqual(errors, []);
  });
});

describe('uploadResponse: DELETE', () => {
  it('deletes a file (204), then answers 404', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'gone.txt'), 'x');
    const { port, errors } = await uploadServer(t, dir, { allowDelete: true });
    assert.equal((await ask(port, '/gone.txt', { method: 'DELETE' })).status, 204);
    assert.deepEqual(readdirSync(dir), []);
    assert.equal((await ask(port, '/gone.txt', { method: 'DELETE' })).status, 404);
    assert.deepEqual(errors, []);
  });

  it('is refused with 405 and Allow unless allowed, and the file stays', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'kept.txt'), 'kept');
    const { port } = await uploadServer(t, dir);
    const response = await ask(port, '/kept.txt', { method: 'DELETE' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.allow, 'PUT, POST');
    assert.equal(readFileSync(join(dir, 'kept.txt'), 'utf8'), 'kept');
  });

  it('never deletes a directory or a symlink', async (t) => {
    const dir = tempDir(t);
    const outside = tempDir(t, 'outside');
    writeFileSync(join(outside, 'target.txt'), 'outside');
    mkdirSync(join(dir, 'folder'));
    symlinkSync(join(outside, 'target.txt'), join(dir, 'link.txt'));
    const { port } = await uploadServer(t, dir, { allowDelete: true });
    assert.equal((await ask(port, '/folder', { method: 'DELETE' })).status, 409);
    assert.equal((await ask(port, '/link.txt', { method: 'DELETE' })).status, 403);
    assert.deepEqual(readdirSync(dir).sort(), ['folder', 'link.txt']);
    assert.equal(readFileSync(join(outside, 'target.txt'), 'utf8'), 'outside');
  });
});

describe('uploadResponse: uploads cut short', () => {
  it('a client that leaves mid-body leaves the old file intact and no temp file', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'keep.txt'), 'old content');
    const { port, errors } = await uploadServer(t, dir);
    const connection = await connectRaw(t, port);
    const length = 200_000;
    connection.socket.write(head('PUT', '/keep.txt', `Content-Length: ${length}\r\n`));
    connection.socket.write(Buffer.alloc(length / 2, 'n'));
    // The half sent is on disk in a temp file before the body ends: it is streamed, not held in memory.
    assert.ok(await eventually(() => tempFiles(dir).some((name) => statSync(join(dir, name)).size > 0)), 'temp file written while streaming');
    assert.match(tempFiles(dir)[0]!, /^\.keep\.txt\.[0-9a-f]{16}\.upload$/);
    connection.socket.destroy();
    const started = Date.now();
    assert.ok(await eventually(() => tempFiles(dir).length === 0), 'temp file removed within 1 s');
    assert.ok(Date.now() - started < 1000);
    assert.equal(readFileSync(join(dir, 'keep.txt'), 'utf8'), 'old content');
    assert.deepEqual(readdirSync(dir), ['keep.txt']);
    // A client going away is not a server fault.
    assert.deepEqual(errors, []);
  });

  it('a Content-Length over maxSize is answered 413 at once, without 100 Continue', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'big.bin'), 'old');
    const { port, errors } = await uploadServer(t, dir, { maxSize: 1000 });
    const connection = await connectRaw(t, port);
    const started = Date.now();
    connection.socket.write(head('PUT', '/big.bin', 'Content-Length: 1001\r\nExpect: 100-continue\r\n'));
    assert.ok(await connection.waitFor('\r\n\r\n'));
    assert.ok(Date.now() - started < 1000, 'answered without waiting for a body');
    assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 413 Payload Too Large']);
    assert.ok(await connection.waitClose(), 'the unsent body is not waited for');
    assert.equal(readFileSync(join(dir, 'big.bin'), 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['big.bin']);
    assert.deepEqual(errors, []);
  });

  it('a chunked body that grows past maxSize is answered 413, the connection closed, no temp file', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'quota.bin'), 'old');
    const { port, errors } = await uploadServer(t, dir, { maxSize: 64 * 1024 });
    const connection = await connectRaw(t, port);
    connection.socket.write(head('PUT', '/quota.bin', 'Transfer-Encoding: chunked\r\n'));
    const chunk = Buffer.alloc(16 * 1024, 'q');
    // 96 KiB, one chunk at a time, and never the last chunk: the server must stop on the count.
    for (let i = 0; i < 6 && !connection.closed; i += 1) {
      connection.socket.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
      await sleep(20);
    }
    assert.ok(await connection.waitFor(/HTTP\/1\.1 413/, 2000), connection.text);
    assert.ok(await connection.waitClose());
    assert.ok(await eventually(() => tempFiles(dir).length === 0), 'temp file removed');
    assert.equal(readFileSync(join(dir, 'quota.bin'), 'utf8'), 'old');
    assert.deepEqual(errors, []);
  });
});

describe('uploadResponse: concurrent writers', () => {
  it('8 clients writing 1 MiB each to one name: each has its own temp file, the result is one whole body', async (t) => {
    const dir = tempDir(t);
    const { port, errors } = await uploadServer(t, dir, { maxSize: 2 * 1024 * 1024 });
    const size = 1024 * 1024;
    const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(size, 0x41 + i));
    const connections = await Promise.all(bodies.map(() => connectRaw(t, port)));
    // Half of every body first, so that all eight uploads are in flight at once.
    connections.forEach((connection, i) => {
      connection.socket.write(head('PUT', '/shared.bin', `Content-Length: ${size}\r\n`));
      connection.socket.write(bodies[i]!.subarray(0, size / 2));
    });
    assert.ok(await eventually(() => tempFiles(dir).length === 8, 3000), `temp files: ${tempFiles(dir).length}`);
    connections.forEach((connection, i) => connection.socket.write(bodies[i]!.subarray(size / 2)));
    const answered = await Promise.all(connections.map((connection) => connection.waitFor('\r\n\r\n', 5000)));
    assert.ok(answered.every(Boolean));
    for (const connection of connections) {
      assert.match(statusLines(connection.text)[0] ?? '', /^HTTP\/1\.1 20[14] /);
    }
    const stored = readFileSync(join(dir, 'shared.bin'));
    assert.equal(stored.length, size);
    assert.ok(bodies.some((body) => body.equals(stored)), 'the file is exactly one of the bodies');
    assert.deepEqual(readdirSync(dir), ['shared.bin']);
    assert.deepEqual(errors, []);
  });
});

describe('uploadResponse: refused targets', () => {
  it('a directory (409), the root or a trailing slash (409), a dotfile (404), a missing parent (404)', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'folder'));
    const { port, errors } = await uploadServer(t, dir);
    const cases: Array<[string, number]> = [
      ['/folder', 409], ['/', 409], ['/new/', 409], ['/folder/', 409],
      ['/.hidden', 404], ['/missing/file.txt', 404], ['/folder/deeper/file.txt', 404],
    ];
    for (const [target, status] of cases) {
      const response = await ask(port, target, { method: 'PUT', body: 'x' });
      assert.equal(response.status, status, target);
    }
    // Intermediate directories are never created.
    assert.deepEqual(readdirSync(dir), ['folder']);
    assert.deepEqual(readdirSync(join(dir, 'folder')), []);
    assert.deepEqual(errors, []);
  });

  it('traversal is refused (403) and nothing is written outside', async (t) => {
    const root = tempDir(t, 'root');
    mkdirSync(join(root, 'dir'));
    const dir = join(root, 'dir');
    const { port } = await uploadServer(t, dir);
    for (const target of ['/../escape.txt', '/%2e%2e/escape.txt', '/a/..%2f..%2fescape.txt', '/..%5cescape.txt']) {
      const response = await ask(port, target, { method: 'PUT', body: 'x' });
      assert.equal(response.status, 403, target);
    }
    assert.deepEqual(readdirSync(root), ['dir']);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a symlinked parent that points outside is refused (404), a symlink target too (403)', async (t) => {
    const dir = tempDir(t);
    const outside = tempDir(t, 'outside');
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    symlinkSync(outside, join(dir, 'out'));
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'secret.txt'));
    const { port, errors } = await uploadServer(t, dir);
    assert.equal((await ask(port, '/out/new.txt', { method: 'PUT', body: 'x' })).status, 404);
    assert.equal((await ask(port, '/out/secret.txt', { method: 'PUT', body: 'x' })).status, 404);
    assert.equal((await ask(port, '/secret.txt', { method: 'PUT', body: 'x' })).status, 403);
    assert.deepEqual(readdirSync(outside), ['secret.txt']);
    assert.equal(readFileSync(join(outside, 'secret.txt'), 'utf8'), 'secret');
    assert.deepEqual(readdirSync(dir).sort(), ['out', 'secret.txt']);
    assert.deepEqual(errors, []);
  });

  it('a symlinked parent that stays inside is followed', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'alias'));
    const { port } = await uploadServer(t, dir);
    assert.equal((await ask(port, '/alias/in.txt', { method: 'PUT', body: 'in' })).status, 201);
    assert.equal(readFileSync(join(dir, 'real', 'in.txt'), 'utf8'), 'in');
  });

  it('refuses before the body is asked for: no 100 Continue', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'folder'));
    const { port } = await uploadServer(t, dir);
    const connection = await connectRaw(t, port);
    connection.socket.write(head('PUT', '/folder', 'Content-Length: 10\r\nExpect: 100-continue\r\n'));
    assert.ok(await connection.waitFor('\r\n\r\n'));
    assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 409 Conflict']);
  });

  it('with dotfiles allowed, a name shaped like an upload temp file is still refused (403)', async (t) => {
    const dir = tempDir(t);
    const { port } = await uploadServer(t, dir, { dotfiles: true, allowDelete: true });
    assert.equal((await ask(port, '/.dotted', { method: 'PUT', body: 'x' })).status, 201);
    assert.equal((await ask(port, '/.x.txt.0123456789abcdef.upload', { method: 'PUT', body: 'x' })).status, 403);
    assert.equal((await ask(port, '/.x.txt.0123456789abcdef.upload', { method: 'DELETE' })).status, 403);
    assert.deepEqual(readdirSync(dir), ['.dotted']);
  });

  it('other methods answer 405', async (t) => {
    const dir = tempDir(t);
    const { port } = await uploadServer(t, dir, { allowDelete: true });
    const response = await ask(port, '/x.txt', { method: 'PATCH', body: 'x' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.allow, 'PUT, POST, DELETE');
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe('uploadResponse: partial PUT (Content-Range)', () => {
  it('with the option, the bytes land at the offset of a copy of the file', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'part.txt'), '0123456789');
    const { port, errors } = await uploadServer(t, dir, { partial: true });
    let response = await ask(port, '/part.txt', { method: 'PUT', headers: { 'Content-Range': 'bytes 2-4/10' }, body: 'abc' });
    assert.equal(response.status, 204);
    assert.equal(readFileSync(join(dir, 'part.txt'), 'utf8'), '01abc56789');
    // Appending at the end grows the file; an unknown complete length is allowed.
    response = await ask(port, '/part.txt', { method: 'PUT', headers: { 'Content-Range': 'bytes 10-12/*' }, body: 'XYZ' });
    assert.equal(response.status, 204);
    assert.equal(readFileSync(join(dir, 'part.txt'), 'utf8'), '01abc56789XYZ');
    // A range at 0 of a file that does not exist creates it.
    response = await ask(port, '/fresh.txt', { method: 'PUT', headers: { 'Content-Range': 'bytes 0-2/3' }, body: 'new' });
    assert.equal(response.status, 201);
    assert.equal(readFileSync(join(dir, 'fresh.txt'), 'utf8'), 'new');
    assert.deepEqual(tempFiles(dir), []);
    assert.deepEqual(errors, []);
  });

  it('with the option, a chunked body at an offset of a large file', async (t) => {
    const dir = tempDir(t);
    const original = Buffer.alloc(300_000, 'o');
    writeFileSync(join(dir, 'large.bin'), original);
    const { port } = await uploadServer(t, dir, { partial: true });
    const connection = await connectRaw(t, port);
    connection.socket.write(`${head('PUT', '/large.bin', 'Content-Range: bytes 200000-200004/300000\r\nTransfer-Encoding: chunked\r\n')}2\r\nAB\r\n3\r\nCDE\r\n0\r\n\r\n`);
    assert.ok(await connection.waitFor('\r\n\r\n'));
    assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 204 No Content']);
    const expected = Buffer.from(original);
    expected.write('ABCDE', 200_000);
    assert.deepEqual(readFileSync(join(dir, 'large.bin')), expected);
  });

  it('with the option, bad ranges are refused and the file stays intact', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'part.txt'), '0123456789');
    const { port, errors } = await uploadServer(t, dir, { partial: true, maxSize: 20 });
    const cases: Array<[string, string, number]> = [
      ['bytes 2-4/10', 'abcd', 400], // Content-Length disagrees with the range
      ['bytes 4-2/10', 'abc', 400],
      ['bytes 2-4/4', 'abc', 400], // last past the complete length
      ['bytes */10', 'abc', 400],
      ['items 2-4/10', 'abc', 400],
      ['bytes 2-4/10, 6-7/10', 'abc', 400],
      ['bytes 20-22/*', 'abc', 416], // would leave a hole
      ['bytes 8-22/*', 'abcdefghijklmno', 413], // the result (23 bytes) would pass maxSize
    ];
    for (const [range, body, status] of cases) {
      const response = await ask(port, '/part.txt', { method: 'PUT', headers: { 'Content-Range': range }, body });
      assert.equal(response.status, status, range);
      if (status === 416) assert.equal(response.headers['content-range'], 'bytes */10');
    }
    assert.equal(readFileSync(join(dir, 'part.txt'), 'utf8'), '0123456789');
    assert.deepEqual(readdirSync(dir), ['part.txt']);
    assert.deepEqual(errors, []);
  });

  it('with the option, a chunked body that disagrees with its range is refused and discarded', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'part.txt'), '0123456789');
    const { port } = await uploadServer(t, dir, { partial: true });
    for (const chunks of ['2\r\nab\r\n', '5\r\nabcde\r\n']) {
      const connection = await connectRaw(t, port);
      connection.socket.write(`${head('PUT', '/part.txt', 'Content-Range: bytes 2-4/10\r\nTransfer-Encoding: chunked\r\n')}${chunks}0\r\n\r\n`);
      assert.ok(await connection.waitFor('\r\n\r\n'));
      assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 400 Bad Request'], chunks);
    }
    assert.ok(await eventually(() => tempFiles(dir).length === 0));
    assert.equal(readFileSync(join(dir, 'part.txt'), 'utf8'), '0123456789');
  });

  it('without the option, Content-Range is refused with 400 before 100 Continue', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'part.txt'), '0123456789');
    const { port, errors } = await uploadServer(t, dir);
    const connection = await connectRaw(t, port);
    connection.socket.write(head('PUT', '/part.txt', 'Content-Range: bytes 2-4/10\r\nContent-Length: 3\r\nExpect: 100-continue\r\n'));
    assert.ok(await connection.waitFor('\r\n\r\n'));
    assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 400 Bad Request']);
    assert.equal(readFileSync(join(dir, 'part.txt'), 'utf8'), '0123456789');
    assert.deepEqual(errors, []);
  });
});

describe('uploadResponse: an upload that outlives callbackTimeout', () => {
  it('is answered 503 and never stored, though its body then arrives in full', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'kept.txt'), 'old');
    const settings: UploadOptions = { dir, maxSize: 1024 * 1024, partial: false, allowDelete: false, dotfiles: false };
    const { port } = await serve(t, (request) => uploadResponse(request, request.path, settings),
      { callbackTimeout: 200, onError: errorSink().onError });
    const connection = await connectRaw(t, port);
    connection.socket.write(head('PUT', '/kept.txt', 'Content-Length: 6\r\n') + 'new');
    assert.equal(await connection.waitFor(/^HTTP\/1\.1 503 /, 2000), true, connection.text);
    connection.socket.write('er!');
    await sleep(200);
    assert.equal(readFileSync(join(dir, 'kept.txt'), 'utf8'), 'old');
    assert.ok(await eventually(() => tempFiles(dir).length === 0), `temp files left: ${tempFiles(dir).join(', ')}`);
  });
});
