import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { run } from './support-process.js';

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The public surface. Adding a name is a decision: update this list with the README. */
const EXPORTS = [
  'DataStream', 'HttpError', 'KeyError', 'ValueError', 'getAddress', 'html', 'httpserver_registercallback',
  'httpserver_stopcallback', 'invoke', 'json', 'listCallbacks', 'redirect', 'registerCallback', 'sendFile',
  'serveDirectory', 'stopAllCallbacks', 'stopCallback', 'text',
];

function runNode(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 10_000 });
}

test('the package is named, typed and limited to Node 20+', () => {
  assert.equal(manifest.name, 'seattle-httpserver');
  assert.equal(manifest.engines.node, '>=20');
  for (const target of [manifest.main, manifest.types, manifest.exports['.'].import.default,
    manifest.exports['.'].import.types, manifest.exports['.'].require.default, manifest.exports['.'].require.types]) {
    assert.ok(existsSync(join(root, target)), `${target} is built`);
  }
});

test('require() exposes exactly the public names', () => {
  const names = JSON.parse(runNode(['-e', "console.log(JSON.stringify(Object.keys(require('seattle-httpserver')).sort()))"]));
  assert.deepEqual(names, [...EXPORTS].sort());
});

test('import exposes exactly the same names', () => {
  const names = JSON.parse(runNode(['--input-type=module', '-e',
    "const m = await import('seattle-httpserver'); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default').sort()))"]));
  assert.deepEqual(names, [...EXPORTS].sort());
});

test('import and require share one registry (no dual-package hazard)', () => {
  const output = runNode(['--input-type=module', '-e', `
    import { createRequire } from 'node:module';
    import * as esm from 'seattle-httpserver';
    const cjs = createRequire(import.meta.url)('seattle-httpserver');
    const id = await esm.registerCallback(['127.0.0.1', 0], () => ({ statuscode: 200 }));
    const shared = cjs.listCallbacks().includes(id) && esm.registerCallback === cjs.registerCallback && esm.HttpError === cjs.HttpError;
    await cjs.stopCallback(id);
    console.log(JSON.stringify({ shared, after: esm.listCallbacks() }));
  `]);
  assert.deepEqual(JSON.parse(output), { shared: true, after: [] });
});

test('type declarations exist for both entry points and name the main API', () => {
  const cjsTypes = readFileSync(join(root, manifest.exports['.'].require.types), 'utf8');
  const esmTypes = readFileSync(join(root, manifest.exports['.'].import.types), 'utf8');
  for (const name of ['registerCallback', 'stopCallback', 'HttpError', 'HttpRequest', 'HttpResponse', 'ServerOptions']) {
    assert.ok(cjsTypes.includes(name), `index.d.ts names ${name}`);
  }
  assert.match(esmTypes, /registerCallback/);
  assert.ok(existsSync(join(dirname(join(root, manifest.types)), 'types.d.ts')));
});

test('only the library is published: the command-line shim, the build, its sources (for the source maps), the tutorial\'s samples and the docs', () => {
  assert.deepEqual(manifest.files, ['bin', 'dist/lib', 'lib', 'samples', 'docs', 'README.md', 'LICENSE']);
});

test('a TypeScript consumer type-checks against both entry points', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'seattle-consumer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'seattle-httpserver'));
  symlinkSync(join(root, 'node_modules', '@types'), join(dir, 'node_modules', '@types'));
  writeFileSync(join(dir, 'esm.mts'), `
    import { registerCallback, stopCallback, HttpError, json, type HttpRequest, type HttpResponse, type ServerOptions } from 'seattle-httpserver';
    const options: ServerOptions = { maxBodySize: 10, cors: 'auto' };
    const id: number = await registerCallback(['127.0.0.1', 0], async (request: HttpRequest): Promise<HttpResponse> => {
      if (request.verb !== 'GET') throw new HttpError(405, 'no', { headers: { Allow: 'GET' } });
      return json({ body: await request.datastream.text(), query: request.querydict });
    }, options);
    await stopCallback(id, { timeout: 0 });
  `);
  writeFileSync(join(dir, 'cjs.cts'), `
    import seattle = require('seattle-httpserver');
    const response: seattle.HttpResponse = seattle.text('hi');
    seattle.registerCallback(['::', 0], () => response).then((id) => seattle.stopCallback(id));
  `);
  writeFileSync(join(dir, 'wrong.mts'), `
    import { registerCallback } from 'seattle-httpserver';
    // @ts-expect-error: the response needs a statuscode
    await registerCallback(['127.0.0.1', 0], () => ({ message: 'no status' }));
  `);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'] },
    files: ['esm.mts', 'cjs.cts', 'wrong.mts'],
  }));
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8', timeout: 60_000 });
});

/**
 * What `npm install` of the packed library gives a consumer project in `dir`:
 * the package from `npm pack`, its dependencies and none of its dev
 * dependencies (but @types/node, which a TypeScript consumer has anyway).
 */
function installPacked(t: TestContext): { dir: string; modules: string } {
  const dir = mkdtempSync(join(tmpdir(), 'seattle-packed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The build is the one under test: prepack would rebuild dist/ under the running tests.
  const tarball = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8', timeout: 60_000 })
    .trim().split('\n').pop()!;
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@types'), { recursive: true });
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', modules], { timeout: 30_000 });
  renameSync(join(modules, 'package'), join(modules, 'seattle-httpserver'));
  for (const name of Object.keys(manifest.dependencies)) symlinkSync(join(root, 'node_modules', name), join(modules, name));
  symlinkSync(join(root, 'node_modules', '@types', 'node'), join(modules, '@types', 'node'));
  return { dir, modules };
}

// Issue 11, defect 12: the published types named `qs` types, which only a dev dependency provided.
test('the packed library type-checks in a consumer that has only its runtime dependencies and @types/node', (t) => {
  const { dir } = installPacked(t);
  writeFileSync(join(dir, 'consumer.mts'), `
    import { registerCallback, stopCallback, type ServerOptions } from 'seattle-httpserver';
    const options: ServerOptions = { query: { depth: 2, allowDots: true } };
    // @ts-expect-error: the query options are typed (not any), so a wrong one is caught
    const wrong: ServerOptions = { query: { depth: 'deep' } };
    const id = await registerCallback(['127.0.0.1', 0], (request) => ({ statuscode: 200, message: String(request.querydict.a) }), options);
    await stopCallback(id);
    export { wrong };
  `);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true,
      types: ['node'], skipLibCheck: false,
    },
    files: ['consumer.mts'],
  }));
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8', timeout: 60_000 });
});

test('the tutorial\'s way in a project of one\'s own works: samples copied out of the installed package run with its command', async (t) => {
  const { dir, modules } = installPacked(t);
  const samples = join(modules, 'seattle-httpserver', 'samples');
  for (const name of ['echo.mjs', 'escape-html.mjs']) copyFileSync(join(samples, name), join(dir, name));
  assert.ok(existsSync(join(modules, 'seattle-httpserver', 'docs', 'tutorial.md')), 'the tutorial comes with the package');
  const server = run(t, ['run', 'echo.mjs', '--port', '0'], join(modules, 'seattle-httpserver', 'bin', 'httpserver.js'), dir);
  const [, url] = await server.waitForStdout(/^Serving echo\.mjs at (http:\/\/127\.0\.0\.1:\d+\/)$/m);
  const response = await fetch(`${url}path?a=1`, { headers: { Accept: 'application/json' } });
  assert.equal(response.status, 200);
  assert.equal((await response.json() as { path: string }).path, '/path');
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0);
});
