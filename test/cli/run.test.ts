/**
 * `httpserver run SCRIPT` as a real child process: every kind of script,
 * Ctrl-C, `--watch` driven by editing files while the server runs, and the
 * messages a beginner gets when something is wrong.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BIN, ROOT, exitWithin, run, type Running } from '../support-process.js';
import { rawRequest, sleep } from '../support.js';
import { ADA_REQUEST, ADA_TRANSCRIPT, normalize } from '../trace/support.js';

const SERVING = /^Serving (.+) at (http:\/\/127\.0\.0\.1:(\d+)\/)$/m;

/** A directory of script files, removed after the test. */
function scripts(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'seattle-run-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function started(server: Running): Promise<string> {
  const [, , url] = await server.waitForStdout(SERVING);
  return url!;
}

async function body(url: string): Promise<string> {
  return (await fetch(url)).text();
}

/** Fetches `url` until its body is `expected` (a reload takes a moment); fails after `timeoutMs`. */
async function eventually(url: string, expected: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await body(url);
    if (last === expected) return;
    await sleep(50);
  }
  assert.equal(last, expected, `no reload within ${timeoutMs} ms`);
}

/** Replaces a file the way many editors save: write a new file, rename it over the old one. */
function saveByRename(file: string, text: string): void {
  writeFileSync(`${file}.swp`, text);
  renameSync(`${file}.swp`, file);
}

const MODULE = (word: string) => `export default (request) => ({ statuscode: 200, message: '${word} ' + request.path });\n`;

test('run: serves the default export of an .mjs script, logs each request, exits 0 on Ctrl-C', async (t) => {
  const dir = scripts(t, { 'hello.mjs': MODULE('hello') });
  const server = run(t, ['run', 'hello.mjs', '--port', '0'], undefined, dir);
  const [, shown, url] = await server.waitForStdout(SERVING);
  assert.equal(shown, 'hello.mjs');
  const res = await fetch(`${url}there?x=1`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'hello /there');
  await server.waitForStdout(/^127\.0\.0\.1 \[[^\]]+\] "GET \/there\?x=1 HTTP\/1\.1" 200 12 [\d.]+ms$/m);
  server.child.kill('SIGINT');
  assert.equal(await exitWithin(server), 0);
  assert.equal(server.stderr(), '');
  await assert.rejects(fetch(url!), 'the port is closed after Ctrl-C');
});

test('run: CommonJS (.cjs, and .js outside a module package) and ES modules (.js inside one)', async (t) => {
  const cjs = scripts(t, {
    'a.cjs': "const { word } = require('./word.cjs');\nmodule.exports = () => ({ statuscode: 200, message: word });\n",
    'word.cjs': "exports.word = 'from cjs';\n",
    'b.js': "module.exports = async () => ({ statuscode: 201, message: 'from js' });\n",
  });
  const esm = scripts(t, {
    'package.json': '{ "type": "module" }\n',
    'c.js': "export default function () { return { statuscode: 200, message: 'from esm js' }; }\n",
  });
  for (const [dir, script, status, text] of [
    [cjs, 'a.cjs', 200, 'from cjs'], [cjs, 'b.js', 201, 'from js'], [esm, 'c.js', 200, 'from esm js'],
  ] as const) {
    const server = run(t, ['run', script, '--port', '0'], undefined, dir);
    const res = await fetch(await started(server));
    assert.equal(res.status, status, script);
    assert.equal(await res.text(), text, script);
    server.child.kill('SIGTERM');
    assert.equal(await exitWithin(server), 0);
  }
});

test('run: TypeScript runs without a build step (types, interfaces, enums, ./x.js meaning x.ts)', async (t) => {
  const dir = scripts(t, {
    'api.ts': [
      "import { shout, Level } from './shout.js';",
      "import type { IncomingHttpHeaders } from 'node:http';",
      'interface Request { path: string; headers: IncomingHttpHeaders }',
      'export default function (request: Request): { statuscode: number; message: string } {',
      '  const level: Level = Level.Loud;',
      '  return { statuscode: 200, message: shout(request.path, level) };',
      '}',
      '',
    ].join('\n'),
    'shout.ts': "export enum Level { Quiet, Loud }\nexport const shout = (text: string, level: Level): string => (level === Level.Loud ? text.toUpperCase() : text);\n",
    'other.mts': "import { shout, Level } from './shout';\nexport default (r: { path: string }) => ({ statuscode: 200, message: shout(r.path, Level.Quiet) });\n",
  });
  const server = run(t, ['run', 'api.ts', '--port', '0'], undefined, dir);
  assert.equal(await body(`${await started(server)}abc`), '/ABC');
  const other = run(t, ['run', 'other.mts', '--port', '0'], undefined, dir);
  assert.equal(await body(`${await started(other)}abc`), '/abc');
});

test('run --watch: an edit swaps the callback on the same port and keeps open connections', async (t) => {
  const dir = scripts(t, { 'app.mjs': MODULE('one') });
  const server = run(t, ['run', 'app.mjs', '--port', '0', '--watch'], undefined, dir);
  const url = await started(server);
  await server.waitForStdout(/^Watching the script for changes\.$/m);
  const port = Number(new URL(url).port);

  // One keep-alive connection, asked once before the edit and once after.
  const socket = connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  let received = '';
  socket.setEncoding('latin1').on('data', (chunk: string) => { received += chunk; });
  const ask = async (count: number) => {
    socket.write('GET /kept HTTP/1.1\r\nHost: x\r\n\r\n');
    const deadline = Date.now() + 5_000;
    while ((received.match(/HTTP\/1\.1 200/g) ?? []).length < count && Date.now() < deadline) await sleep(20);
  };
  await ask(1);
  assert.match(received, /one \/kept$/);

  writeFileSync(join(dir, 'app.mjs'), MODULE('two'));
  await eventually(`${url}x`, 'two /x');
  await server.waitForStdout(/^Reloaded app\.mjs \(app\.mjs changed\)$/m);
  await ask(2);
  assert.match(received, /two \/kept$/, 'the same connection is answered by the new callback');
  assert.equal(server.stderr(), '');
});

test('run --watch: an imported file counts; a broken edit keeps the last good version and says where', async (t) => {
  const dir = scripts(t, {
    'app.mjs': "import { word } from './word.mjs';\nexport default () => ({ statuscode: 200, message: word });\n",
    'word.mjs': "export const word = 'first';\n",
  });
  const server = run(t, ['run', 'app.mjs', '--port', '0', '-w'], undefined, dir);
  const url = await started(server);
  await server.waitForStdout(/^Watching the script and 1 file it imports for changes\.$/m);
  assert.equal(await body(url), 'first');

  saveByRename(join(dir, 'word.mjs'), "export const word = 'second';\n");
  await eventually(url, 'second');
  await server.waitForStdout(/^Reloaded app\.mjs \(word\.mjs changed\)$/m);

  writeFileSync(join(dir, 'word.mjs'), "export const word = 'third\n");
  const deadline = Date.now() + 8_000;
  while (!server.stderr().includes('Still serving') && Date.now() < deadline) await sleep(50);
  assert.equal(server.stderr(), [
    'httpserver run: app.mjs did not load:',
    `SyntaxError: ${join(dir, 'word.mjs')}:1:27: Unterminated string literal`,
    '',
    "  export const word = 'third",
    '                            ^',
    'Still serving the last version that loaded.',
    '',
  ].join('\n'));
  assert.equal(await body(url), 'second', 'the last good callback still answers');

  writeFileSync(join(dir, 'word.mjs'), "export const word = 'fourth';\n");
  await eventually(url, 'fourth');
});

test('run --watch: a script that fails at first is served as 503 until it is fixed', async (t) => {
  const dir = scripts(t, { 'app.mjs': 'export default function (request) {\n  return { statuscode: 200, message: "ok" \n}\n' });
  const server = run(t, ['run', 'app.mjs', '--port', '0', '--watch'], undefined, dir);
  const url = await started(server);
  assert.match(server.stderr(), /^httpserver run: app\.mjs did not load:\nSyntaxError: .*app\.mjs:4:1: Unexpected end of file\n/);
  assert.match(server.stderr(), /Waiting for a change to app\.mjs\.\.\.\n$/);
  const res = await fetch(url);
  assert.equal(res.status, 503);
  assert.equal(await res.text(), 'The script has not loaded yet: the terminal running httpserver says why.\n');

  writeFileSync(join(dir, 'app.mjs'), MODULE('fixed'));
  await eventually(`${url}now`, 'fixed /now');
});

test('run --watch: a CommonJS script and the file it requires are reloaded too', async (t) => {
  const dir = scripts(t, {
    'app.cjs': "const { word } = require('./word.cjs');\nmodule.exports = () => ({ statuscode: 200, message: word });\n",
    'word.cjs': "exports.word = 'old';\n",
  });
  const server = run(t, ['run', 'app.cjs', '--port', '0', '--watch'], undefined, dir);
  const url = await started(server);
  await server.waitForStdout(/^Watching the script and 1 file it imports for changes\.$/m);
  writeFileSync(join(dir, 'word.cjs'), "exports.word = 'new';\n");
  await eventually(url, 'new');
});

/** Runs a command that must fail; resolves with its exit code and what it printed on stderr. */
async function failing(t: TestContext, args: string[], cwd: string): Promise<{ code: number | string; stderr: string }> {
  const command = run(t, args, undefined, cwd);
  const code = await exitWithin(command);
  return { code, stderr: command.stderr() };
}

test('run: a script without a callback says what to export', async (t) => {
  const dir = scripts(t, {
    'named.mjs': 'export function handler() { return { statuscode: 200 }; }\n',
    'object.mjs': 'export default { statuscode: 200, message: "hi" };\n',
    'empty.cjs': '// nothing exported\n',
  });
  assert.deepEqual(await failing(t, ['run', 'named.mjs'], dir), {
    code: 1,
    stderr: [
      'httpserver run: named.mjs did not load:',
      'named.mjs has no default export. httpserver run serves the function a script exports as its default, like this:',
      '',
      '  export default function (request) {',
      "    return { statuscode: 200, message: 'Hello!\\n' };",
      '  }',
      '',
      "named.mjs exports 'handler': write 'export default handler;' to serve it.",
      '',
    ].join('\n'),
  });
  const object = await failing(t, ['run', 'object.mjs'], dir);
  assert.equal(object.code, 1);
  assert.match(object.stderr, /^httpserver run: object\.mjs did not load:\nThe default export of object\.mjs is an object, not a function\. /);
  assert.match(object.stderr, /\nIt looks like a response dictionary: export a function that returns it, so it runs for each request\.\n$/);
  const empty = await failing(t, ['run', 'empty.cjs'], dir);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /empty\.cjs has no default export\. .*\n\n {2}module\.exports = function \(request\) \{\n/);
});

test('run: a script that throws while loading shows its own stack, not the loader\'s', async (t) => {
  const dir = scripts(t, { 'boom.mjs': "const answer = 42;\nthrow new Error('no database at ' + answer);\n" });
  const { code, stderr } = await failing(t, ['run', 'boom.mjs'], dir);
  assert.equal(code, 1);
  assert.match(stderr, /^httpserver run: boom\.mjs did not load:\nError: no database at 42\n {4}at file:\/\/.*boom\.mjs:2:7\n$/);
  assert.doesNotMatch(stderr, /node:internal|httpserver-generation|dist\/lib/);
});

test('run: usage errors exit 2 and name the problem', async (t) => {
  const dir = scripts(t, { 'ok.mjs': MODULE('ok'), 'notes.txt': 'text' });
  const cases: Array<[string[], RegExp]> = [
    [['run'], /^httpserver run: missing SCRIPT: the file whose default export is the callback\n/],
    [['run', 'nope.mjs'], /^httpserver run: SCRIPT 'nope\.mjs' does not exist\n/],
    [['run', 'notes.txt'], /^httpserver run: SCRIPT 'notes\.txt' must end in \.js, \.mjs, \.cjs, \.ts, \.mts\n/],
    [['run', '.'], /^httpserver run: SCRIPT '\.' is not a file\n/],
    [['run', 'ok.mjs', 'ok.mjs'], /^httpserver run: one SCRIPT at a time, got 2: ok\.mjs ok\.mjs\n/],
    [['run', 'ok.mjs', '--wach'], /^httpserver run: unknown option '--wach'\. Did you mean '--watch'\?\n/],
    [['run', 'ok.mjs', '--trace=bytes'], /^httpserver run: --trace takes no value, or '=wire' for the raw bytes too; got '--trace=bytes'\n/],
    [['run', 'ok.mjs', '--port', '80000'], /^httpserver run: --port must be an integer from 0 to 65535, got '80000'\n/],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await failing(t, args, dir);
    assert.equal(code, 2, args.join(' '));
    assert.match(stderr, message, args.join(' '));
    assert.match(stderr, /Run 'httpserver run --help' for usage\.\n$/);
  }
});

test('run: a port in use suggests --port 0', async (t) => {
  const dir = scripts(t, { 'ok.mjs': MODULE('ok') });
  const first = run(t, ['run', 'ok.mjs', '--port', '0'], undefined, dir);
  const port = new URL(await started(first)).port;
  const { code, stderr } = await failing(t, ['run', 'ok.mjs', '--port', port], dir);
  assert.equal(code, 1);
  assert.equal(stderr, `httpserver run: port ${port} on 127.0.0.1 is already in use (is another server still running?).\n` +
    `Stop it, pick another port with --port ${Number(port) + 1}, or use --port 0 for any free port.\n`);
});

test('run --help shows an example script and every option', async (t) => {
  const command = run(t, ['run', '--help'], undefined, tmpdir());
  assert.equal(await exitWithin(command), 0);
  const help = command.stdout();
  assert.match(help, /^Usage: httpserver run \[options\] SCRIPT\n/);
  assert.match(help, /export default function \(request\) \{\n {4}return \{ statuscode: 200, message: `Hello from \$\{request\.path\}\\n` \};/);
  for (const flag of ['--port', '--host', '--watch', '--trace', '--trace=wire', '--http09', '--help']) assert.ok(help.includes(flag), flag);
});

test('run --http09 answers an HTTP/0.9 request line with the body alone; without it, 400', async (t) => {
  const dir = scripts(t, { 'ok.mjs': MODULE('ok') });
  for (const [flags, expected] of [[['--http09'], /^ok \/old$/], [[], /^HTTP\/1\.1 400 Bad Request\r\n/]] as const) {
    const server = run(t, ['run', 'ok.mjs', '--port', '0', ...flags], undefined, dir);
    const { port } = new URL(await started(server));
    const { text, closed } = await rawRequest(Number(port), 'GET /old\r\n', { idleMs: 2000 });
    assert.match(text, expected);
    assert.equal(closed, true);
    server.child.kill('SIGTERM');
    assert.equal(await exitWithin(server), 0);
  }
});

test('run: the PORT environment variable is the default port (PORT=0 make run); a bad one is a usage error', async (t) => {
  const dir = scripts(t, { 'ok.mjs': MODULE('ok') });
  const server = run(t, ['run', 'ok.mjs'], undefined, dir, { PORT: '0' });
  const url = await started(server);
  assert.notEqual(new URL(url).port, '8080');
  assert.equal(await body(url), 'ok /');
  const bad = run(t, ['run', 'ok.mjs'], undefined, dir, { PORT: 'eighty' });
  assert.equal(await exitWithin(bad), 2);
  assert.match(bad.stderr(), /^httpserver run: PORT must be an integer from 0 to 65535, got 'eighty'\n/);
});

test('run --trace=wire prints the same transcript as the trace option, with the log line before the close', async (t) => {
  const dir = scripts(t, {
    'greet.mjs': "export default (request) => ({ statuscode: 200, message: `Hello, ${String(request.querydict.name)}!\\n` });\n",
  });
  const server = run(t, ['run', 'greet.mjs', '--port', '0', '--trace=wire'], undefined, dir);
  const port = Number(new URL(await started(server)).port);
  const { text } = await rawRequest(port, ADA_REQUEST);
  assert.match(text, /\r\n\r\nHello, Ada!\n$/);
  await server.waitForStdout(/── connection 1 closed\n/);
  const printed = normalize(server.stdout()).replace(/\[[^\]]+\] "/, '[TIME] "').replace(/ [\d.]+ms$/m, ' Nms');
  assert.equal(printed, 'Serving greet.mjs at http://127.0.0.1:PORT/\n' + ADA_TRANSCRIPT.replace(
    '── connection 1 closed', '127.0.0.1 [TIME] "GET /hello?name=Ada HTTP/1.1" 200 12 Nms\n── connection 1 closed'));
});

test('run --trace shows the dictionaries only, without colour when stdout is not a terminal', async (t) => {
  const dir = scripts(t, { 'ok.mjs': MODULE('ok') });
  const server = run(t, ['run', 'ok.mjs', '--port', '0', '--trace'], undefined, dir);
  const url = await started(server);
  assert.equal(await body(`${url}p`), 'ok /p');
  await server.waitForStdout(/"GET \/p HTTP\/1\.1" 200/);
  const out = server.stdout();
  assert.match(out, /^── request 1 ── GET \/p from 127\.0\.0\.1:\d+\n\{\n {2}verb: 'GET',\n {2}path: '\/p',\n/m);
  assert.match(out, /^── response 1 ── after \d+ ms\n\{\n {2}statuscode: 200,\n {2}message: 'ok \/p'\n\}\n/m);
  assert.doesNotMatch(out, /^[<>] /m, 'no wire lines');
  assert.doesNotMatch(out, /\x1b\[/, 'no ANSI colour codes in a pipe');
});

test('the README\'s commands: make run (the echo sample) and make trace (hello, traced) through the bin shim', async (t) => {
  const echo = run(t, ['run', 'samples/echo.mjs', '--port', '0'], BIN, ROOT);
  const [, shown, url] = await echo.waitForStdout(SERVING);
  assert.equal(shown, 'samples/echo.mjs');
  const seen = await (await fetch(`${url}path?a=1`, { method: 'POST', body: 'some body' })).json() as Record<string, unknown>;
  assert.equal(seen.path, '/path');
  assert.deepEqual(seen.querydict, { a: '1' });
  assert.equal(seen.body, 'some body');

  const hello = run(t, ['run', 'samples/hello.mjs', '--port', '0', '--trace=wire'], BIN, ROOT);
  const helloUrl = (await hello.waitForStdout(SERVING))[2]!;
  assert.equal(await body(`${helloUrl}hello?name=Ada`), 'Hello! You asked for /hello\n');
  await hello.waitForStdout(/^< Hello! You asked for \/hello\\n$/m);
  assert.match(hello.stdout(), /^> GET \/hello\?name=Ada HTTP\/1\.1\\r\\n$/m);
  assert.match(hello.stdout(), /^── request 1 ── GET \/hello\?name=Ada from 127\.0\.0\.1:\d+$/m);
  for (const server of [echo, hello]) {
    server.child.kill('SIGINT');
    assert.equal(await exitWithin(server), 0);
  }
});
