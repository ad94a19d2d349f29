/**
 * `httpserver serve`'s upload and caching flags (lib/cli/serve.ts,
 * lib/cli/upload-plan.ts) as a real child process: what is uploaded can be
 * read back, a write-only upload directory is said to be one, and each flag
 * reaches the response.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ask } from '../support.js';
import { exitWithin, run, type Running } from '../support-process.js';

/** A directory (its name with a space and a non-ASCII letter), removed after the test. */
function directory(t: TestContext, label = 'site'): string {
  const dir = mkdtempSync(join(tmpdir(), `seattle ${label}-é-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'hello.txt'), 'hello\n');
  return dir;
}

async function started(server: Running): Promise<{ url: string; port: number }> {
  const [, url, port] = await server.waitForStdout(/^Serving .+ at (http:\/\/127\.0\.0\.1:(\d+)\/)$/m);
  return { url: url!, port: Number(port) };
}

/** Stops the server with Ctrl-C and resolves once it has exited 0: everything it printed is in by then. */
async function stopped(server: Running): Promise<void> {
  server.child.kill('SIGINT');
  assert.equal(await exitWithin(server), 0);
}

test('serve --writable: an upload answers 201 and is read back at its Location (the round trip)', async (t) => {
  const site = directory(t);
  const server = run(t, ['serve', site, '--writable', '--port', '0']);
  const { url } = await started(server);
  await server.waitForStdout(/^Uploads \(PUT, POST\) go into .+: each one is served at the URL it was sent to\.$/m);

  const put = await fetch(`${url}uploaded.txt`, { method: 'PUT', body: 'sent by PUT\n' });
  assert.equal(put.status, 201);
  const location = put.headers.get('location') ?? '/uploaded.txt';
  const back = await fetch(new URL(location, url));
  assert.equal(back.status, 200, `GET ${location} after the PUT`);
  assert.equal(await back.text(), 'sent by PUT\n');

  assert.equal((await fetch(`${url}posted.txt`, { method: 'POST', body: 'sent by POST\n' })).status, 201);
  assert.equal(await (await fetch(`${url}posted.txt`)).text(), 'sent by POST\n');
  assert.equal(readFileSync(join(site, 'posted.txt'), 'utf8'), 'sent by POST\n');
  await stopped(server);
  assert.equal(server.stderr(), '', 'no write-only warning');
});

test('serve --writable with several DIRs uploads into the first and says where to read it', async (t) => {
  const first = directory(t, 'first');
  const second = directory(t, 'second');
  const server = run(t, ['serve', first, second, '--writable', '--port', '0']);
  const { url } = await started(server);
  const mount = encodeURIComponent(basename(first));
  const [notice] = await server.waitForStdout(/^Uploads .*$/m);
  assert.equal(notice, `Uploads (PUT, POST) go into ${first} (the first DIR): what is sent to /NAME is served at /${mount}/NAME.`);

  assert.equal((await fetch(`${url}a.txt`, { method: 'PUT', body: 'into the first' })).status, 201);
  assert.equal(readFileSync(join(first, 'a.txt'), 'utf8'), 'into the first');
  assert.equal(await (await fetch(`${url}${mount}/a.txt`)).text(), 'into the first');
  assert.equal(existsSync(join(second, 'a.txt')), false);
  await stopped(server);
});

test('serve --upload DIR outside the served directories warns that it is write-only and how to fix it', async (t) => {
  const site = directory(t);
  const up = directory(t, 'up');
  const server = run(t, ['serve', site, '--upload', up, '--port', '0']);
  const { url } = await started(server);
  const [warning] = await server.waitForStderr(/^httpserver serve: warning: .*\n/m);
  assert.equal(warning, `httpserver serve: warning: --upload ${up} is write-only: it is not one of the served directories ` +
    "(nor inside one), so what is uploaded cannot be read back (GPAC's wdir alone is a write-only server too). " +
    `To read uploads back, serve it as well (httpserver serve '${site}' '${up}' --upload '${up}') ` +
    'or upload into the served directory with --writable.\n');
  // What the warning says: the upload lands, and no URL reads it.
  assert.equal((await fetch(`${url}only-written.txt`, { method: 'PUT', body: 'x' })).status, 201);
  assert.equal(readFileSync(join(up, 'only-written.txt'), 'utf8'), 'x');
  assert.equal((await fetch(`${url}only-written.txt`)).status, 404);
  await stopped(server);
});

test('serve --upload of a served directory, however it is spelled, is readable: real paths are compared', async (t) => {
  const site = directory(t);
  const links = directory(t, 'links');
  symlinkSync(site, join(links, 'alias'));
  mkdirSync(join(site, 'in box'));
  const cases: Array<[string, string, string]> = [
    // --upload, what the notice says, where an upload to /f.txt is read back.
    [join(links, 'alias'), 'each one is served at the URL it was sent to', '/f.txt'],
    [`${site}/./`, 'each one is served at the URL it was sent to', '/f.txt'],
    [join(links, 'alias', 'in box'), 'what is sent to /NAME is served at /in%20box/NAME', '/in%20box/f.txt'],
  ];
  for (const [upload, where, readAt] of cases) {
    const server = run(t, ['serve', site, '--upload', upload, '--port', '0']);
    const { url } = await started(server);
    const [notice] = await server.waitForStdout(/^Uploads .*$/m);
    assert.equal(notice, `Uploads (PUT, POST) go into ${upload}: ${where}.`);
    assert.equal((await fetch(`${url}f.txt`, { method: 'PUT', body: upload })).status, 201, upload);
    assert.equal(await (await fetch(`${url}${readAt.slice(1)}`)).text(), upload, upload);
    rmSync(join(realpathSync(upload), 'f.txt'));
    await stopped(server);
    assert.equal(server.stderr(), '', `no warning for --upload ${upload}`);
  }
});

test('serve --delete removes uploaded files; without it DELETE is 405', async (t) => {
  const site = directory(t);
  const server = run(t, ['serve', site, '--writable', '--delete', '--port', '0']);
  const { url } = await started(server);
  assert.equal((await fetch(`${url}gone.txt`, { method: 'PUT', body: 'soon gone' })).status, 201);
  assert.equal((await fetch(`${url}gone.txt`, { method: 'DELETE' })).status, 204);
  assert.equal(existsSync(join(site, 'gone.txt')), false);
  assert.equal((await fetch(`${url}gone.txt`)).status, 404);
  await stopped(server);

  const keeping = run(t, ['serve', site, '--writable', '--port', '0']);
  const kept = await started(keeping);
  const refused = await fetch(`${kept.url}hello.txt`, { method: 'DELETE' });
  assert.equal(refused.status, 405);
  assert.equal(refused.headers.get('allow'), 'GET, HEAD, OPTIONS, PUT, POST');
  assert.equal(readFileSync(join(site, 'hello.txt'), 'utf8'), 'hello\n');
  await stopped(keeping);
});

test('serve --max-upload 1K refuses a larger upload with 413 and stores a smaller one', async (t) => {
  const site = directory(t);
  const server = run(t, ['serve', site, '--writable', '--max-upload', '1K', '--port', '0']);
  const { port } = await started(server);
  const big = await ask(port, '/big.bin', { method: 'PUT', body: Buffer.alloc(1025, 1) });
  assert.equal(big.status, 413);
  assert.equal(existsSync(join(site, 'big.bin')), false);
  const small = await ask(port, '/small.bin', { method: 'PUT', body: Buffer.alloc(1024, 2) });
  assert.equal(small.status, 201);
  assert.deepEqual(readFileSync(join(site, 'small.bin')), Buffer.alloc(1024, 2));
  await stopped(server);
});

test('serve --cache sets Cache-Control: public, max-age; 0 and the default are no-cache', async (t) => {
  const site = directory(t);
  for (const [flags, expected] of [
    [['--cache', '3600'], 'public, max-age=3600'], [['--cache', '0'], 'no-cache'], [[], 'no-cache'],
  ] as const) {
    const server = run(t, ['serve', site, ...flags, '--port', '0']);
    const { url } = await started(server);
    assert.equal((await fetch(`${url}hello.txt`)).headers.get('cache-control'), expected, flags.join(' '));
    await stopped(server);
  }
});

test('serve --no-compress sends files as they are to a client that accepts gzip', async (t) => {
  const site = directory(t);
  writeFileSync(join(site, 'big.txt'), Array.from({ length: 400 }, (_, i) => `line ${i}\n`).join(''));
  for (const [flags, encoding] of [[[], 'gzip'], [['--no-compress'], undefined]] as const) {
    const server = run(t, ['serve', site, ...flags, '--port', '0']);
    const { port } = await started(server);
    const response = await ask(port, '/big.txt', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-encoding'], encoding, flags.join(' ') || 'no flag');
    await stopped(server);
  }
});

test('serve --quiet prints the start-up lines and no line per request', async (t) => {
  const site = directory(t);
  const server = run(t, ['serve', site, '--quiet', '--writable', '--port', '0']);
  const { url } = await started(server);
  assert.equal((await fetch(`${url}hello.txt`)).status, 200);
  assert.equal((await fetch(`${url}missing.txt`)).status, 404);
  await stopped(server);
  assert.match(server.stdout(), /^Serving .+\nUploads \(PUT, POST\) go into .+\n$/);
});

test('serve: the new flags\' usage errors exit 2 and name the problem', async (t) => {
  const site = directory(t);
  const cases: Array<[string[], RegExp]> = [
    [['--delete'], /^httpserver serve: --delete needs --writable or --upload DIR\n/],
    [['--max-upload', '1M'], /^httpserver serve: --max-upload needs --writable or --upload DIR\n/],
    [['--writable', '--upload', site], /^httpserver serve: --writable and --upload both say where uploads go: give one of them\n/],
    ...['10X', '0', '-1', '1.5M', 'M', ''].map((size): [string[], RegExp] => [
      ['--writable', `--max-upload=${size}`],
      new RegExp(`^httpserver serve: --max-upload takes a size such as 512K, 10M, 1G or a number of bytes \\(at least 1\\), got '${size.replace('.', '\\.')}'\\n`),
    ]),
    ...['-1', 'abc', '1.5', '31536001'].map((seconds): [string[], RegExp] => [
      [`--cache=${seconds}`],
      new RegExp(`^httpserver serve: --cache takes a whole number of seconds from 0 to 31536000 \\(a year\\), got '${seconds.replace('.', '\\.')}'\\n`),
    ]),
    [['--no-compres'], /^httpserver serve: unknown option '--no-compres'\. Did you mean '--no-compress'\?\n/],
    [['--writeable'], /^httpserver serve: unknown option '--writeable'\. Did you mean '--writable'\?\n/],
  ];
  for (const [flags, message] of cases) {
    const command = run(t, ['serve', site, ...flags]);
    assert.equal(await exitWithin(command), 2, flags.join(' '));
    assert.match(command.stderr(), message, flags.join(' '));
    assert.equal(command.stdout(), '');
  }
});
