/**
 * Path safety of serveDirectory, over raw sockets so that every hostile
 * target reaches the server exactly as written (a client library would
 * normalize `..` or re-encode escapes first).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { serveDirectory } from '../../lib/index.js';
import { ask, errorSink, serve } from '../support.js';

const SECRET = 'TOP SECRET outside the root';
let base: string;
let root: string;

before(() => {
  base = mkdtempSync(join(tmpdir(), 'seattle-static-path-'));
  root = join(base, 'root');
  const outside = join(base, 'outside');
  // Shares the root's name as a prefix: a plain string prefix check would let it through.
  const sibling = join(base, 'root-evil');
  for (const dir of [root, outside, sibling, join(root, 'sub'), join(root, '.hidden'), join(root, 'x..y')]) mkdirSync(dir);
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  writeFileSync(join(sibling, 'secret.txt'), SECRET);
  writeFileSync(join(root, 'hello.txt'), 'hello\n');
  writeFileSync(join(root, 'sub', 'page.txt'), 'sub page\n');
  writeFileSync(join(root, 'a..b.txt'), 'two dots inside a name\n');
  writeFileSync(join(root, 'x..y', 'in.txt'), 'in a dotted directory\n');
  writeFileSync(join(root, 'with space.txt'), 'space\n');
  writeFileSync(join(root, 'ünïcødé ✓.txt'), 'unicode\n');
  writeFileSync(join(root, '100%.txt'), 'percent\n');
  writeFileSync(join(root, '.secret'), SECRET);
  writeFileSync(join(root, '.hidden', 'inside.txt'), SECRET);
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link-out.txt'));
  symlinkSync('../outside', join(root, 'link-dir-out'));
  symlinkSync(join(sibling, 'secret.txt'), join(root, 'link-prefix.txt'));
  symlinkSync('hello.txt', join(root, 'link-in.txt'));
  symlinkSync('sub', join(root, 'link-sub'));
  // A plain name pointing at a hidden file must not reveal it.
  symlinkSync('.secret', join(root, 'alias.txt'));
  symlinkSync('missing.txt', join(root, 'dangling.txt'));
});

after(() => rmSync(base, { recursive: true, force: true }));

/** A server for the root; no error may reach onError (every refusal is an HttpError). */
async function start(t: Parameters<typeof serve>[0], options: Record<string, unknown> = {}) {
  const sink = errorSink();
  const served = await serve(t, serveDirectory({ root, ...options }), { onError: sink.onError });
  t.after(() => assert.deepEqual(sink.errors.map(String), []));
  return served;
}

/** A refusal: the expected status, nothing from outside, no file-system path in the answer. */
function assertRefused(reply: Awaited<ReturnType<typeof ask>>, statuses: number[], target: string): void {
  assert.ok(statuses.includes(reply.status), `${target}: ${reply.raw}`);
  assert.ok(!reply.raw.includes('TOP SECRET'), `${target} leaked the secret`);
  assert.ok(!reply.raw.includes(base), `${target} leaked a path`);
  assert.ok(!reply.raw.includes('seattle-static-path'), `${target} leaked a path`);
}

test('up-paths are refused with 403 however they are spelled', async (t) => {
  const { port } = await start(t);
  for (const target of [
    '/../outside/secret.txt',
    '/sub/../../outside/secret.txt',
    '/%2e%2e/outside/secret.txt',
    '/%2E%2E/outside/secret.txt',
    '/.%2e/outside/secret.txt',
    '/%2e%2e%2foutside%2fsecret.txt',
    '/sub/..%2f..%2foutside%2fsecret.txt',
    '/%5c..%5coutside%5csecret.txt',
    '/sub%5c..%5c..%5coutside%5csecret.txt',
    '/..%5coutside/secret.txt',
    '/../root-evil/secret.txt',
  ]) {
    assertRefused(await ask(port, target), [403], target);
  }
});

test('a raw backslash never walks up (refused by the parser or by the path checks)', async (t) => {
  const { port } = await start(t);
  for (const target of ['/..\\outside\\secret.txt', '/sub\\..\\..\\outside\\secret.txt']) {
    assertRefused(await ask(port, target), [400, 403], target);
  }
});

test('bad escapes, NUL and overlong UTF-8 are 400', async (t) => {
  const { port } = await start(t);
  for (const target of [
    '/hello.txt%00',
    '/hello.txt%00.html',
    '/%00/../outside/secret.txt',
    '/%c0%ae%c0%ae/outside/secret.txt', // overlong '.', the classic IIS bypass
    '/%c0%af',
    '/%e0%80%ae',
    '/%zz',
    '/%',
    '/hello%2',
    '/%e2%82', // truncated UTF-8
    '/%ff',
  ]) {
    const reply = await ask(port, target);
    assertRefused(reply, [400], target);
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8', target);
  }
});

test('symlinks pointing outside the root answer 404, for files and directories', async (t) => {
  const { port } = await start(t);
  for (const target of [
    '/link-out.txt',
    '/link-dir-out/secret.txt',
    '/link-dir-out/',
    '/link-dir-out',
    '/link-prefix.txt',
    '/dangling.txt',
  ]) {
    const reply = await ask(port, target);
    assertRefused(reply, [404], target);
    assert.equal(reply.body, 'Not Found\n', target);
  }
  // The same links stay closed with dotfiles shown, listing on, and for HEAD.
  const open = await start(t, { dotfiles: true });
  assertRefused(await ask(open.port, '/link-out.txt', { method: 'HEAD' }), [404], 'HEAD /link-out.txt');
  assertRefused(await ask(open.port, '/link-dir-out/secret.txt'), [404], '/link-dir-out/secret.txt');
});

test('symlinks that stay inside the root are followed', async (t) => {
  const { port } = await start(t);
  const file = await ask(port, '/link-in.txt');
  assert.equal(file.status, 200);
  assert.equal(file.body, 'hello\n');
  const below = await ask(port, '/link-sub/page.txt');
  assert.equal(below.status, 200);
  assert.equal(below.body, 'sub page\n');
});

test('a listing leaves out symlinks that point outside the root, or at a hidden dotfile, and shows those that stay inside', async (t) => {
  const { port } = await start(t, { list: true, index: false });
  const listing = await ask(port, '/', { headers: { Accept: 'application/json' } });
  assert.equal(listing.status, 200);
  const names = (JSON.parse(listing.body) as { entries: Array<{ name: string }> }).entries.map((entry) => entry.name);
  for (const hidden of ['link-out.txt', 'link-dir-out', 'link-prefix.txt', 'alias.txt', 'dangling.txt']) {
    assert.ok(!names.includes(hidden), `${hidden} is listed`);
  }
  for (const shown of ['link-in.txt', 'link-sub', 'hello.txt']) assert.ok(names.includes(shown), `${shown} is missing`);
});

test('dotfiles are hidden by default: 404 like a missing file, also through a symlink', async (t) => {
  const { port } = await start(t);
  for (const target of ['/.secret', '/%2esecret', '/.hidden/inside.txt', '/.hidden/', '/sub/../.secret', '/alias.txt']) {
    const reply = await ask(port, target);
    // `/sub/../.secret` is refused as an up-path first.
    assertRefused(reply, target.includes('..') ? [403] : [404], target);
  }
  const missing = await ask(port, '/no-such-file.txt');
  const hidden = await ask(port, '/.secret');
  assert.equal(hidden.body, missing.body, 'a hidden file is told apart from a missing one');
});

test('dotfiles: true serves them, but never outside the root', async (t) => {
  const { port } = await start(t, { dotfiles: true });
  const reply = await ask(port, '/.secret');
  assert.equal(reply.status, 200);
  assert.equal(reply.body, SECRET);
  assert.equal((await ask(port, '/.hidden/inside.txt')).status, 200);
  assert.equal((await ask(port, '/alias.txt')).status, 200);
  assertRefused(await ask(port, '/.%2e/outside/secret.txt'), [403], '/.%2e/outside/secret.txt');
});

test('hostile but legal names are served: spaces, unicode, % and .. inside a name', async (t) => {
  const { port } = await start(t);
  const cases: Array<[string, string]> = [
    ['/a..b.txt', 'two dots inside a name\n'],
    ['/x..y/in.txt', 'in a dotted directory\n'],
    ['/with%20space.txt', 'space\n'],
    [`/${encodeURIComponent('ünïcødé ✓.txt')}`, 'unicode\n'],
    ['/100%25.txt', 'percent\n'],
    ['//hello.txt', 'hello\n'],
    ['/./hello.txt', 'hello\n'],
    ['/sub//page.txt', 'sub page\n'],
  ];
  for (const [target, body] of cases) {
    const reply = await ask(port, target);
    assert.equal(reply.status, 200, `${target}: ${reply.raw}`);
    assert.equal(Buffer.from(reply.body, 'latin1').toString(), body, target);
    assert.equal(reply.headers['content-length'], String(Buffer.byteLength(body)), target);
  }
});

test('an absolute-form target is served by its path and checked the same way', async (t) => {
  const { port } = await start(t);
  const reply = await ask(port, 'http://127.0.0.1/hello.txt');
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'hello\n');
  assertRefused(await ask(port, 'http://127.0.0.1/%2e%2e/outside/secret.txt'), [403], 'absolute-form up-path');
});

test('a redirect to the slash form is rebuilt from the checked path: it never leaves the site', async (t) => {
  const { port } = await start(t);
  for (const [target, location] of [
    ['//sub', '/sub/'],
    ['/%2fsub', '/sub/'],
    ['/./sub', '/sub/'],
    ['/sub?a=1&b', '/sub/?a=1&b'],
  ] as const) {
    const reply = await ask(port, target);
    assert.equal(reply.status, 301, target);
    assert.equal(reply.headers.location, location, target);
  }
});

test('mount names are one decoded segment: an encoded slash or up-path never selects a mount', async (t) => {
  const sink = errorSink();
  const { port } = await serve(t, serveDirectory({ root: { docs: join(root, 'sub'), all: root } }), { onError: sink.onError });
  assert.equal((await ask(port, '/docs/page.txt')).status, 200);
  assertRefused(await ask(port, '/docs/../all/.secret'), [403], 'mount up-path');
  assertRefused(await ask(port, '/docs/%2e%2e/hello.txt'), [403], 'mount encoded up-path');
  assertRefused(await ask(port, '/docs%2f..%2fall/hello.txt'), [404], 'encoded slash in the mount name');
  assertRefused(await ask(port, '/%zz/hello.txt'), [400], 'bad escape in the mount name');
  assertRefused(await ask(port, '/..'), [404], 'up-path instead of a mount');
  assert.deepEqual(sink.errors, []);
});
