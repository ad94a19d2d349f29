import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import { test, type TestContext } from 'node:test';
import { makeCertificate } from './support.js';
import { BIN, CLI, exitWithin, run } from './support-process.js';


function fixture(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'seattle-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'hello.txt'), 'hello from the cli\n');
  return dir;
}

const SERVING = /^Serving (.+) at (http:\/\/127\.0\.0\.1:(\d+)\/)$/m;

test('serve: prints its URL, serves a file, logs the request, and exits 0 on SIGINT', async (t) => {
  const dir = fixture(t);
  const server = run(t, ['serve', dir, '--port', '0']);
  const [, shown, url, port] = await server.waitForStdout(SERVING);
  assert.equal(shown, dir);
  assert.notEqual(Number(port), 0);

  const response = await fetch(`${url}hello.txt`);
  assert.equal(response.status, 200);
  assert.equal(await response.text(), 'hello from the cli\n');
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);

  // One log line per request: client, method, target, version, status, bytes.
  await server.waitForStdout(/^127\.0\.0\.1 \[[^\]]+\] "GET \/hello\.txt HTTP\/1\.1" 200 19 [\d.]+ms$/m);

  server.child.kill('SIGINT');
  assert.equal(await exitWithin(server), 0);
  assert.equal(server.stderr(), '');
  // The port is free again: the listener was closed, not abandoned.
  await assert.rejects(fetch(`${url}hello.txt`));
});

test('serve: SIGTERM stops it cleanly too', async (t) => {
  const server = run(t, ['serve', fixture(t), '--port=0']);
  await server.waitForStdout(SERVING);
  server.child.kill('SIGTERM');
  assert.equal(await exitWithin(server), 0);
});

test('serve: --header, --list and --host reach the server', async (t) => {
  const dir = fixture(t);
  mkdirSync(join(dir, 'sub'));
  const server = run(t, [
    'serve', dir, '--port', '0', '--host', '127.0.0.1', '--list',
    '--header', 'X-Served-By: cli test', '--header', 'x-extra:  a ', '--header', 'X-Extra: b',
  ]);
  const [, , url] = await server.waitForStdout(SERVING);

  const file = await fetch(`${url}hello.txt`);
  assert.equal(file.headers.get('x-served-by'), 'cli test');
  assert.equal(file.headers.get('x-extra'), 'a, b');

  const listing = await fetch(url!);
  assert.equal(listing.status, 200);
  const page = await listing.text();
  assert.match(page, /href="sub\/"/);
  assert.match(page, /href="hello\.txt"/);

  server.child.kill('SIGINT');
  assert.equal(await exitWithin(server), 0);
});

test('serve: --upload, --cors and --spa reach the server', async (t) => {
  const site = fixture(t);
  const uploads = fixture(t);
  writeFileSync(join(site, 'index.html'), '<p>app</p>\n');
  const server = run(t, ['serve', site, '--port', '0', '--upload', uploads, '--cors', '--spa']);
  const [, , url] = await server.waitForStdout(SERVING);

  const put = await fetch(`${url}sent.txt`, { method: 'PUT', body: 'uploaded bytes' });
  assert.equal(put.status, 201);
  assert.equal(readFileSync(join(uploads, 'sent.txt'), 'utf8'), 'uploaded bytes');

  // 'auto' CORS: only a cross-origin request (one with Origin) gets the header.
  assert.equal((await fetch(`${url}hello.txt`, { headers: { origin: 'http://elsewhere.test' } })).headers.get('access-control-allow-origin'), '*');
  assert.equal((await fetch(`${url}hello.txt`)).headers.get('access-control-allow-origin'), null);

  // A browser navigation to a route of the app gets the app's page.
  const route = await fetch(`${url}some/client/route`, { headers: { accept: 'text/html' } });
  assert.equal(route.status, 200);
  assert.equal(await route.text(), '<p>app</p>\n');

  server.child.kill('SIGINT');
  assert.equal(await exitWithin(server), 0);
});

test('serve: --tls-cert and --tls-key serve HTTPS', async (t) => {
  const dir = fixture(t);
  const keys = fixture(t); // not the served directory: the key must not be downloadable
  const { cert, key } = makeCertificate();
  writeFileSync(join(keys, 'cert.pem'), cert);
  writeFileSync(join(keys, 'key.pem'), key);
  const server = run(t, ['serve', dir, '--port', '0', '--tls-cert', join(keys, 'cert.pem'), '--tls-key', join(keys, 'key.pem')]);
  const [, url] = await server.waitForStdout(/^Serving .+ at (https:\/\/127\.0\.0\.1:\d+\/)$/m);

  // Trusting exactly this certificate: the connection is verified, not merely encrypted.
  const body = await new Promise<string>((resolve, reject) => {
    https.get(`${url}hello.txt`, { ca: cert }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; }).on('end', () => resolve(text));
    }).on('error', reject);
  });
  assert.equal(body, 'hello from the cli\n');

  server.child.kill('SIGINT');
  assert.equal(await exitWithin(server), 0);
});

test('serve: several directories are mounted under their names', async (t) => {
  const first = fixture(t);
  const second = fixture(t);
  writeFileSync(join(second, 'hello.txt'), 'the second one\n');
  const server = run(t, ['serve', first, second, '--port', '0']);
  const [, shown, url] = await server.waitForStdout(SERVING);
  assert.equal(shown, `${first}, ${second}`);

  const name = (dir: string) => dir.split('/').at(-1)!;
  assert.equal(await (await fetch(`${url}${name(first)}/hello.txt`)).text(), 'hello from the cli\n');
  assert.equal(await (await fetch(`${url}${name(second)}/hello.txt`)).text(), 'the second one\n');

  server.child.kill('SIGINT');
  assert.equal(await exitWithin(server), 0);
});

test('usage errors exit 2 with a message that names the problem', async (t) => {
  const dir = fixture(t);
  const cases: [string[], RegExp][] = [
    [['serve', dir, '--prot', '0'], /unknown option '--prot'\. Did you mean '--port'\?/],
    [['serve', dir, '-x'], /unknown option '-x'/],
    [['serve', dir, '--port'], /--port <value>' argument missing/],
    [['serve', dir, '--port', '65536'], /--port must be an integer from 0 to 65535, got '65536'/],
    [['serve', dir, '--port', 'http'], /--port must be an integer/],
    [['serve', join(dir, 'missing')], /DIR '.*missing' does not exist/],
    [['serve', join(dir, 'hello.txt')], /is not a directory/],
    [['serve', dir, '--header', 'no colon'], /--header must look like 'Name: value'/],
    [['serve', dir, '--header', 'Bad Name: x'], /--header 'Bad Name: x'/],
    [['serve', dir, '--tls-cert', join(dir, 'hello.txt')], /--tls-cert and --tls-key go together/],
    [['serve', dir, '--upload', join(dir, 'nope')], /--upload '.*nope' does not exist/],
    [['serve', dir, '--list=yes'], /--list/],
    [['frobnicate'], /^httpserver: unknown command 'frobnicate'\n\nUsage: httpserver <command>/],
    [['serv', dir], /^httpserver: unknown command 'serv'; did you mean 'serve'\?\nRun 'httpserver --help' for the commands\.\n$/],
    [['rnu', 'app.mjs'], /^httpserver: unknown command 'rnu'; did you mean 'run'\?\n/],
    [['Serve'], /^httpserver: unknown command 'Serve'; did you mean 'serve'\?\n/],
    [[], /Usage: httpserver <command>/],
  ];
  for (const [args, message] of cases) {
    const command = run(t, args);
    assert.equal(await exitWithin(command), 2, `httpserver ${args.join(' ')}`);
    assert.match(command.stderr(), message, `httpserver ${args.join(' ')}`);
    assert.equal(command.stdout(), '', 'nothing on stdout');
  }
  // A usage error points to the help.
  const unknown = run(t, ['serve', '--prot', '0']);
  await exitWithin(unknown);
  assert.match(unknown.stderr(), /Run 'httpserver serve --help' for usage/);
});

test('a port already taken exits 1 and says how to pick another (--port 0)', async (t) => {
  const dir = fixture(t);
  const first = run(t, ['serve', dir, '--port', '0']);
  const [, , , port] = await first.waitForStdout(SERVING);
  const second = run(t, ['serve', dir, '--port', port!]);
  assert.equal(await exitWithin(second), 1);
  assert.equal(second.stderr(), `httpserver serve: port ${port} on 127.0.0.1 is already in use (is another server still running?).\n` +
    `Stop it, pick another port with --port ${Number(port) + 1}, or use --port 0 for any free port.\n`);
  first.child.kill('SIGINT');
  assert.equal(await exitWithin(first), 0);
});

test('--help prints the options and exits 0, through the bin shim as well', async (t) => {
  for (const [script, args] of [[CLI, ['serve', '--help']], [BIN, ['serve', '-h']]] as const) {
    const command = run(t, [...args], script);
    assert.equal(await exitWithin(command), 0);
    for (const flag of [
      '--port', '--host', '--upload', '--writable', '--delete', '--max-upload', '--list', '--cors', '--spa', '--header',
      '--cache', '--no-compress', '--quiet', '--tls-cert', '--tls-key',
    ]) {
      assert.ok(command.stdout().includes(flag), `help mentions ${flag}`);
    }
  }
  const top = run(t, ['--help'], BIN);
  assert.equal(await exitWithin(top), 0);
  assert.match(top.stdout(), /serve\s+serve directories/);
});
