/**
 * Regression: conditional PUT, POST and DELETE (RFC 9110, 13.1). They used
 * to overwrite whatever the conditions said. Now If-Match, If-None-Match
 * and If-Unmodified-Since are evaluated against the file as it is, with the
 * ETag and date a GET sends, before the body is read and again right before
 * the file is put in place; a failed one is 412 and changes nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { serveDirectory } from '../../lib/index.js';
import { ask, connectRaw, serve, sleep, statusLines } from '../support.js';

function tempDir(t: TestContext): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seattle-conditional-put-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Served and writable: the root is the upload directory, so GET shows the ETag a condition names. */
async function writable(t: TestContext) {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'doc.txt'), 'original\n');
  // An old date, so that "modified since" questions have a clear answer.
  utimesSync(join(dir, 'doc.txt'), new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
  const { port } = await serve(t, serveDirectory({ root: dir, upload: { dir, delete: true } }));
  const tag = (await ask(port, '/doc.txt', { method: 'HEAD' })).headers.etag!;
  return { dir, port, tag, content: () => readFileSync(join(dir, 'doc.txt'), 'utf8') };
}

function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.upload'));
}

test('If-None-Match: * refuses to overwrite (412) and creates a file that is not there (201)', async (t) => {
  const { dir, port, content } = await writable(t);
  const refused = await ask(port, '/doc.txt', { method: 'PUT', headers: { 'If-None-Match': '*' }, body: 'clobbered' });
  assert.equal(refused.status, 412);
  assert.equal(content(), 'original\n');
  const created = await ask(port, '/new.txt', { method: 'PUT', headers: { 'If-None-Match': '*' }, body: 'fresh' });
  assert.equal(created.status, 201);
  assert.equal(readFileSync(join(dir, 'new.txt'), 'utf8'), 'fresh');
  // POST to a file is a write too.
  assert.equal((await ask(port, '/doc.txt', { method: 'POST', headers: { 'If-None-Match': '*' }, body: 'x' })).status, 412);
  assert.equal(content(), 'original\n');
  assert.deepEqual(tempFiles(dir), []);
});

test('If-Match: a wrong tag is 412, the tag GET sends succeeds; * needs an existing file', async (t) => {
  const { dir, port, tag, content } = await writable(t);
  assert.equal((await ask(port, '/doc.txt', { method: 'PUT', headers: { 'If-Match': '"wrong"' }, body: 'x' })).status, 412);
  assert.equal((await ask(port, '/doc.txt', { method: 'PUT', headers: { 'If-Match': `W/${tag}` }, body: 'x' })).status, 412, 'weak tags never match strongly');
  assert.equal(content(), 'original\n');
  assert.equal((await ask(port, '/missing.txt', { method: 'PUT', headers: { 'If-Match': '*' }, body: 'x' })).status, 412);
  assert.equal(existsSync(join(dir, 'missing.txt')), false);
  assert.equal((await ask(port, '/doc.txt', { method: 'PUT', headers: { 'If-Match': `"other", ${tag}` }, body: 'second\n' })).status, 204);
  assert.equal(content(), 'second\n');
  assert.equal((await ask(port, '/doc.txt', { method: 'PUT', headers: { 'If-Match': '*' }, body: 'third\n' })).status, 204);
  assert.equal(content(), 'third\n');
});

test('If-Unmodified-Since: a date before the last change is 412, a later one succeeds, an invalid one is ignored', async (t) => {
  const { port, content } = await writable(t);
  assert.equal((await ask(port, '/doc.txt', { method: 'PUT', headers: { 'If-Unmodified-Since': 'Sun, 01 Dec 2019 00:00:00 GMT' }, body: 'x' })).status, 412);
  assert.equal(content(), 'original\n');
  assert.equal((await ask(port, '/doc.txt', { method: 'PUT', headers: { 'If-Unmodified-Since': 'not a date' }, body: 'a\n' })).status, 204);
  assert.equal((await ask(port, '/doc.txt', { method: 'PUT', headers: { 'If-Unmodified-Since': new Date(Date.now() + 3600_000).toUTCString() }, body: 'b\n' })).status, 204);
  assert.equal(content(), 'b\n');
});

test('DELETE honours If-Match; a missing file stays 404 whatever the conditions', async (t) => {
  const { dir, port, tag } = await writable(t);
  assert.equal((await ask(port, '/doc.txt', { method: 'DELETE', headers: { 'If-Match': '"wrong"' } })).status, 412);
  assert.equal(existsSync(join(dir, 'doc.txt')), true);
  assert.equal((await ask(port, '/doc.txt', { method: 'DELETE', headers: { 'If-None-Match': '*' } })).status, 412);
  assert.equal((await ask(port, '/doc.txt', { method: 'DELETE', headers: { 'If-Match': tag } })).status, 204);
  assert.equal(existsSync(join(dir, 'doc.txt')), false);
  assert.equal((await ask(port, '/doc.txt', { method: 'DELETE', headers: { 'If-Match': tag } })).status, 404);
});

test('a failed condition is answered before the body is asked for: no 100 Continue', async (t) => {
  const { port, content } = await writable(t);
  const connection = await connectRaw(t, port);
  connection.socket.write('PUT /doc.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
  assert.ok(await connection.waitFor(/HTTP\/1\.1 \d{3}[^\r]*\r\n/, 2000));
  assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 412 Precondition Failed']);
  assert.equal(content(), 'original\n');
});

/** Waits until an upload's temp file exists in `dir`: the body is being stored. */
async function uploadInFlight(dir: string): Promise<boolean> {
  const until = Date.now() + 2000;
  while (Date.now() < until) {
    if (tempFiles(dir).length > 0) return true;
    await sleep(5);
  }
  return false;
}

test('conditions are checked again once the body is in: a file put there meanwhile is not clobbered', async (t) => {
  const { dir, port, tag, content } = await writable(t);
  for (const condition of ['If-None-Match: *', `If-Match: ${tag}`]) {
    const target = condition.startsWith('If-None') ? '/late.txt' : '/doc.txt';
    const connection = await connectRaw(t, port);
    connection.socket.write(`PUT ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${condition}\r\nContent-Length: 10\r\n\r\nfirst`);
    assert.ok(await uploadInFlight(dir), 'the upload has begun');
    // Another writer finishes first.
    writeFileSync(join(dir, target.slice(1)), 'the other writer\n');
    connection.socket.write('half!');
    assert.ok(await connection.waitClose(2000));
    assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 412 Precondition Failed'], condition);
    assert.equal(readFileSync(join(dir, target.slice(1)), 'utf8'), 'the other writer\n', condition);
    assert.deepEqual(tempFiles(dir), [], condition);
  }
  assert.equal(content(), 'the other writer\n');
});
