/**
 * Regression: a PUT answered 201 with `Location: /<name>` even when the
 * upload directory was not served, so the Location answered 404. Now the
 * Location is the URL GET serves the stored file at (under its mount,
 * percent-encoded), or absent when the file is not served; and an upload
 * directory that is also the served root round-trips byte for byte.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { serveDirectory, type ServeDirectoryOptions } from '../../lib/index.js';
import { uploadDirUrl } from '../../lib/static/upload-location.js';
import { ask, serve } from '../support.js';

const BYTES = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31) % 256));

function tempDir(t: TestContext): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seattle-location-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(t: TestContext, options: ServeDirectoryOptions) {
  return serve(t, serveDirectory(options));
}

/** PUT `target`, then GET the Location it answers with: the same bytes must come back. */
async function putThenFollow(port: number, target: string): Promise<string | undefined> {
  const put = await ask(port, target, { method: 'PUT', body: BYTES });
  assert.equal(put.status, 201, put.raw);
  const location = put.headers.location;
  if (location !== undefined) {
    const back = await ask(port, location);
    assert.equal(back.status, 200, `GET ${location}`);
    assert.ok(Buffer.from(back.body, 'latin1').equals(BYTES), `GET ${location} returns the uploaded bytes`);
  }
  return location;
}

test('the served root as the upload directory: PUT then GET returns the same bytes, hostile names encoded', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'sub dir'));
  const { port } = await start(t, { root: dir, upload: { dir } });
  assert.equal(await putThenFollow(port, '/plain.bin'), '/plain.bin');
  assert.equal(await putThenFollow(port, `/${encodeURIComponent('héllo wörld #1?.bin')}`), '/h%C3%A9llo%20w%C3%B6rld%20%231%3F.bin');
  assert.equal(await putThenFollow(port, '/sub%20dir/a%25b.bin'), '/sub%20dir/a%25b.bin');
  assert.ok(readFileSync(join(dir, 'sub dir', 'a%b.bin')).equals(BYTES));
  assert.equal(uploadDirUrl({ root: dir, upload: { dir } }), '/');
});

test('an upload directory that is not served: 201 without Location', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'public'));
  mkdirSync(join(dir, 'incoming'));
  const options = { root: join(dir, 'public'), upload: { dir: join(dir, 'incoming') } };
  const { port } = await start(t, options);
  const put = await ask(port, '/x.bin', { method: 'PUT', body: BYTES });
  assert.equal(put.status, 201);
  assert.equal(put.headers.location, undefined);
  assert.ok(readFileSync(join(dir, 'incoming', 'x.bin')).equals(BYTES));
  assert.equal(uploadDirUrl(options), undefined);
  assert.equal(uploadDirUrl({ root: join(dir, 'public') }), undefined);
});

test('an upload directory inside the served root: Location under its path there', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'incoming files'));
  const options = { root: dir, upload: { dir: join(dir, 'incoming files') } };
  const { port } = await start(t, options);
  assert.equal(await putThenFollow(port, '/x.bin'), '/incoming%20files/x.bin');
  assert.equal(uploadDirUrl(options), '/incoming%20files/');
});

test('an upload directory hidden as a dotfile is not served: no Location', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, '.uploads'));
  const options = { root: dir, upload: { dir: join(dir, '.uploads') } };
  const { port } = await start(t, options);
  assert.equal(await putThenFollow(port, '/x.bin'), undefined);
  assert.equal(uploadDirUrl(options), undefined);
  assert.equal(uploadDirUrl({ ...options, dotfiles: true }), '/.uploads/');
});

test('mount points: Location names the mount that serves the upload directory', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'docs'));
  mkdirSync(join(dir, 'pics'));
  mkdirSync(join(dir, 'pics', 'new'));
  const options = { root: { docs: join(dir, 'docs'), 'my pics': join(dir, 'pics') }, upload: { dir: join(dir, 'pics', 'new') } };
  const { port } = await start(t, options);
  assert.equal(await putThenFollow(port, '/p.bin'), '/my%20pics/new/p.bin');
  // An array of roots: mounts named after the directories.
  const listed = await start(t, { root: [join(dir, 'docs'), join(dir, 'pics')], upload: { dir: join(dir, 'docs') } });
  assert.equal(await putThenFollow(listed.port, '/d.bin'), '/docs/d.bin');
  assert.equal(uploadDirUrl(options), '/my%20pics/new/');
});
