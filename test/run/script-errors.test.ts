/**
 * A callback that throws under `httpserver run` (lib/run/script-errors.ts),
 * as a real child process: the error line names the script's own
 * file:line:column (source-mapped for TypeScript, never a package's or this
 * library's frame), and `--expose-errors` puts the error in the 500 body.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { LIBRARY_DIR, scriptLocation } from '../../lib/run/script-errors.js';
import { exitWithin, run, type Running } from '../support-process.js';

/** Files below a fresh directory (a name with a space), removed after the test. */
function scripts(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'seattle run errors-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

// The throw is on line 3, column 9 (`new Error`), in a helper below the callback.
const MJS = [
  "import { shout } from 'shouter';",
  'function lookUp(path) {',
  "  throw new Error('no page at ' + path);",
  '}',
  'export default function (request) {',
  "  if (request.path === '/package') return { statuscode: 200, message: shout(request.path) };",
  '  return { statuscode: 200, message: lookUp(request.path) };',
  '}',
  '',
].join('\n');

// The same bug in TypeScript, with type-only lines before it that the JavaScript does not have:
// the throw is on line 6, column 9, of the .ts file.
const TS = [
  'interface Request {',
  '  path: string;',
  '}',
  'type Answer = { statuscode: number; message: string };',
  'function lookUp(path: string): string {',
  "  throw new Error('no page at ' + path);",
  '}',
  'export default async function (request: Request): Promise<Answer> {',
  '  return { statuscode: 200, message: lookUp(request.path) };',
  '}',
  '',
].join('\n');

const PACKAGE = {
  'node_modules/shouter/package.json': '{ "name": "shouter", "type": "module", "main": "index.js" }\n',
  'node_modules/shouter/index.js': "export function shout(text) {\n  throw new TypeError('cannot shout ' + text);\n}\n",
};

async function started(server: Running): Promise<string> {
  const [, url] = await server.waitForStdout(/^Serving .+ at (http:\/\/127\.0\.0\.1:\d+\/)$/m);
  return url!;
}

for (const [script, source, line] of [['app.mjs', MJS, 3], ['app.ts', TS, 6]] as const) {
  test(`run ${script}: a callback that throws is reported with the script's file:line:column, and the 500 stays generic`, async (t) => {
    const dir = scripts(t, { [script]: source, ...PACKAGE });
    const server = run(t, ['run', script, '--port', '0'], undefined, dir);
    const response = await fetch(`${await started(server)}missing`);
    assert.equal(response.status, 500);
    assert.equal(await response.text(), 'Internal Server Error\n');
    const [report] = await server.waitForStderr(/^seattle-httpserver .*\n/m);
    assert.equal(report, `seattle-httpserver [httpdid 1] GET /missing: Error: no page at /missing (at ${script}:${line}:9)\n`);
    server.child.kill('SIGINT');
    assert.equal(await exitWithin(server), 0);
  });

  test(`run ${script} --expose-errors: the 500 body names the error and the script's line, without the loader's or the library's frames`, async (t) => {
    const dir = scripts(t, { [script]: source, ...PACKAGE });
    const server = run(t, ['run', script, '--port', '0', '--expose-errors'], undefined, dir);
    const response = await fetch(`${await started(server)}missing`);
    assert.equal(response.status, 500);
    const body = await response.text();
    assert.match(body, new RegExp(`^Error: no page at /missing\\n {4}at lookUp \\((file://)?[^)]*${script.replace('.', '\\.')}:${line}:9\\)\\n`));
    assert.doesNotMatch(body, /httpserver-generation|dist\/lib|node:internal/);
    await server.waitForStderr(new RegExp(`\\(at ${script.replace('.', '\\.')}:${line}:9\\)\\n`));
  });
}

test('run: a throw inside a package is located at the script\'s call into it, not in node_modules', async (t) => {
  const dir = scripts(t, { 'app.mjs': MJS, ...PACKAGE });
  const server = run(t, ['run', 'app.mjs', '--port', '0'], undefined, dir);
  assert.equal((await fetch(`${await started(server)}package`)).status, 500);
  const [report] = await server.waitForStderr(/^seattle-httpserver .*\n/m);
  assert.equal(report, 'seattle-httpserver [httpdid 1] GET /package: TypeError: cannot shout /package (at app.mjs:6:71)\n');
});

test('run: a throw in a local file the script imports names that file, relative to the working directory', async (t) => {
  const dir = scripts(t, {
    'app.mjs': "import { check } from './lib/check.mjs';\nexport default (request) => ({ statuscode: 200, message: check(request.path) });\n",
    'lib/check.mjs': "export function check(path) {\n  if (path !== '/') throw new RangeError('only / here');\n  return 'ok';\n}\n",
  });
  const server = run(t, ['run', 'app.mjs', '--port', '0', '--watch'], undefined, dir);
  assert.equal((await fetch(`${await started(server)}elsewhere`)).status, 500);
  const [report] = await server.waitForStderr(/^seattle-httpserver .*\n/m);
  assert.equal(report, `seattle-httpserver [httpdid 1] GET /elsewhere: RangeError: only / here (at ${join('lib', 'check.mjs')}:2:27)\n`);
});

test('run --help lists --expose-errors and the TLS flags', async (t) => {
  const help = run(t, ['run', '--help']);
  assert.equal(await exitWithin(help), 0);
  for (const flag of ['--expose-errors', '--tls-cert', '--tls-key']) assert.ok(help.stdout().includes(flag), flag);
});

test('scriptLocation: the first frame in the user\'s files, whatever the frame\'s form', () => {
  const located = (...frames: string[]) => {
    const error = new Error('x');
    error.stack = ['Error: x', ...frames.map((frame) => `    at ${frame}`)].join('\n');
    return scriptLocation(error);
  };
  const cwd = process.cwd();
  assert.equal(located(`lookUp (file://${cwd}/my%20app.mjs?httpserver-generation=4:3:9)`), 'my app.mjs:3:9');
  assert.equal(located(`${cwd}/app.cjs:7:1`), 'app.cjs:7:1');
  assert.equal(located(`async Promise.all (index 0)`, `async handler (${cwd}/lib/a.ts:10:5)`), join('lib', 'a.ts:10:5'));
  assert.equal(located(`shout (${cwd}/node_modules/p/index.js:2:9)`, `callback (${LIBRARY_DIR}/cli/run.js:1:1)`, 'node:internal/x:1:1'), undefined);
  assert.equal(located('/elsewhere/app.mjs:1:2'), '/elsewhere/app.mjs:1:2', 'outside the working directory: the absolute path');
  const noStack = new Error('x');
  noStack.stack = undefined;
  assert.equal(scriptLocation(noStack), undefined);
});
