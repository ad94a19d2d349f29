/**
 * Writes a browser makes on behalf of a page from another origin are
 * refused (lib/static/same-origin.ts): a cross-site form POST needs no
 * preflight, so without the check any page could fill or empty an upload
 * directory on localhost.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { serveDirectory, type ServeDirectoryOptions } from '../../lib/index.js';
import { ask, serve } from '../support.js';

function site(t: TestContext): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seattle-origin-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(t: TestContext, dir: string, options: Partial<ServeDirectoryOptions> = {}) {
  return serve(t, serveDirectory({ root: dir, upload: { dir, delete: true }, ...options }));
}

const CROSS: Array<Record<string, string>> = [
  { Origin: 'http://evil.example' },
  { Origin: 'http://127.0.0.1:1' },
  { Origin: 'null' },
  { 'Sec-Fetch-Site': 'cross-site', Origin: 'http://evil.example' },
  { 'Sec-Fetch-Site': 'same-site' },
];

test('PUT, POST and DELETE sent for a page of another origin get 403 and change nothing', async (t) => {
  const dir = site(t);
  writeFileSync(join(dir, 'keep.txt'), 'keep\n');
  const { port } = await start(t, dir);
  for (const headers of CROSS) {
    for (const [method, target] of [['PUT', '/new.txt'], ['POST', '/new.txt'], ['DELETE', '/keep.txt']] as const) {
      const reply = await ask(port, target, { method, headers, ...(method === 'DELETE' ? {} : { body: 'x' }) });
      assert.equal(reply.status, 403, `${method} with ${JSON.stringify(headers)}`);
    }
  }
  assert.equal(existsSync(join(dir, 'new.txt')), false);
  assert.equal(existsSync(join(dir, 'keep.txt')), true);
});

test('the same origin, the user\'s own action, and clients that are not browsers may write', async (t) => {
  const dir = site(t);
  const { port } = await start(t, dir);
  const allowed: Array<Record<string, string>> = [{}, { Origin: 'http://127.0.0.1' }, { 'Sec-Fetch-Site': 'same-origin', Origin: 'http://127.0.0.1' }, { 'Sec-Fetch-Site': 'none' }];
  for (const [index, headers] of allowed.entries()) {
    const reply = await ask(port, `/ok${index}.txt`, { method: 'PUT', headers, body: 'x' });
    assert.equal(reply.status, 201, JSON.stringify(headers));
  }
});

test('with cors on, cross-origin writes are allowed, as the operator asked', async (t) => {
  const dir = site(t);
  const { port } = await start(t, dir, { cors: 'on' });
  const reply = await ask(port, '/cross.txt', { method: 'PUT', headers: { Origin: 'http://evil.example' }, body: 'x' });
  assert.equal(reply.status, 201);
});

test('reads are not affected: a page of another origin may still GET', async (t) => {
  const dir = site(t);
  writeFileSync(join(dir, 'page.txt'), 'hello\n');
  const { port } = await start(t, dir);
  const reply = await ask(port, '/page.txt', { headers: { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site' } });
  assert.equal(reply.status, 200);
});
