/**
 * The tutorial's samples about answers: status codes and redirects
 * (status.mjs) and a JSON API (json-api.mjs) served on a real listener, and
 * json-api.test.mjs run the way a student runs it, with `node --test`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Callback } from '../lib/index.js';
import { importSample, loadSample, packageRoot, samplesDir } from './samples-support.js';
import { ask, serve } from './support.js';

const REDIRECTS = { '/moved': 301, '/found': 302, '/see-other': 303, '/temporary': 307, '/permanent': 308 };

test('status: each redirect has its status, Location /landing and an empty body', async (t) => {
  const { url } = await serve(t, await loadSample('status.mjs'));
  for (const [path, status] of Object.entries(REDIRECTS)) {
    const res = await fetch(`${url}${path}`, { redirect: 'manual' });
    assert.equal(res.status, status, path);
    assert.equal(res.headers.get('location'), '/landing', path);
    assert.equal(res.headers.get('content-length'), '0', path);
    assert.equal(await res.text(), '', path);
  }
});

test('status: followed with a POST, 301, 302 and 303 arrive as GET; 307 and 308 keep the method and body', async (t) => {
  const { url } = await serve(t, await loadSample('status.mjs'));
  const arrivals: Record<string, string> = {};
  for (const path of Object.keys(REDIRECTS)) {
    const res = await fetch(`${url}${path}`, { method: 'POST', body: 'hi' });
    assert.equal(res.url, `${url}/landing`);
    arrivals[path] = await res.text();
  }
  const asGet = 'You landed on /landing with GET and no body\n';
  const asPost = 'You landed on /landing with POST and the body "hi"\n';
  assert.deepEqual(arrivals, { '/moved': asGet, '/found': asGet, '/see-other': asGet, '/temporary': asPost, '/permanent': asPost });
});

test('status: /things answers POST with 201 and a Location that works, anything else with 405 and Allow', async (t) => {
  const { url } = await serve(t, await loadSample('status.mjs'));
  const created = await fetch(`${url}/things`, { method: 'POST' });
  assert.equal(created.status, 201);
  const location = created.headers.get('location')!;
  assert.match(location, /^\/things\/\d+$/);
  assert.equal(await created.text(), `Created thing ${location.slice('/things/'.length)}\n`);
  const thing = await fetch(`${url}${location}`);
  assert.equal(thing.status, 200);
  assert.equal(await thing.text(), `This is thing ${location.slice('/things/'.length)}\n`);

  for (const method of ['GET', 'PUT', 'DELETE']) {
    const refused = await fetch(`${url}/things`, { method });
    assert.equal(refused.status, 405, method);
    assert.equal(refused.headers.get('allow'), 'POST');
    assert.equal(await refused.text(), `Use POST to create a thing, not ${method}\n`);
  }
  for (const path of ['/things/0', '/things/999999', '/things/x', '/nowhere']) {
    const missing = await fetch(`${url}${path}`);
    assert.equal(missing.status, 404, path);
    assert.equal(await missing.text(), `There is nothing at ${path}\n`);
  }
});

test('status: 204 has no body and no Content-Length on the wire; / and /landing are 200', async (t) => {
  const { url, port } = await serve(t, await loadSample('status.mjs'));
  const empty = await ask(port, '/empty');
  assert.equal(empty.statusLine, 'HTTP/1.1 204 No Content');
  assert.equal(empty.headers['content-length'], undefined);
  assert.equal(empty.headers['content-type'], undefined);
  assert.equal(empty.body, '');
  const index = await fetch(`${url}/`);
  assert.match(await index.text(), /^Try \/landing .* \/moved \/found \/see-other \/temporary \/permanent\n$/);
  const head = await ask(port, '/landing', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

async function freshApi(t: Parameters<typeof serve>[0]) {
  const module = await importSample<{ todoApi: () => Callback }>('json-api.mjs');
  // A new list per test: the default export keeps one list for the life of the process.
  return serve(t, module.todoApi());
}

test('json-api: POST creates (201 + Location), GET reads, DELETE removes (204), then 404', async (t) => {
  const { url } = await freshApi(t);
  const post = (title: string) => fetch(`${url}/todos`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ title }),
  });
  const created = await post('Buy milk');
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(created.headers.get('location'), '/todos/1');
  assert.deepEqual(await created.json(), { id: 1, title: 'Buy milk', done: false });
  assert.equal((await post('Walk the dog')).headers.get('location'), '/todos/2');

  const list = await fetch(`${url}/todos`);
  assert.deepEqual(await list.json(), [{ id: 1, title: 'Buy milk', done: false }, { id: 2, title: 'Walk the dog', done: false }]);
  assert.deepEqual(await (await fetch(`${url}/todos/2`)).json(), { id: 2, title: 'Walk the dog', done: false });

  const deleted = await fetch(`${url}/todos/1`, { method: 'DELETE' });
  assert.equal(deleted.status, 204);
  assert.equal(await deleted.text(), '');
  const gone = await fetch(`${url}/todos/1`);
  assert.equal(gone.status, 404);
  assert.deepEqual(await gone.json(), { error: 'There is no todo at /todos/1' });
  assert.deepEqual((await (await fetch(`${url}/todos`)).json() as Array<{ id: number }>).map((todo) => todo.id), [2]);
});

test('json-api: errors are JSON too: 400 bad JSON or no title, 415 not JSON, 405 with Allow, 404', async (t) => {
  const { url } = await freshApi(t);
  const send = async (body: string, type = 'application/json', method = 'POST', path = '/todos') => {
    const res = await fetch(`${url}${path}`, { method, headers: { 'Content-Type': type }, body });
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    return { status: res.status, allow: res.headers.get('allow'), error: ((await res.json()) as { error: string }).error };
  };
  const broken = await send('{"title": "Buy milk"');
  assert.equal(broken.status, 400);
  assert.match(broken.error, /^Invalid JSON in request body: /);
  for (const body of ['{}', '{"title": "  "}', '{"title": 7}', 'null', '"Buy milk"']) {
    assert.deepEqual(await send(body), { status: 400, allow: null, error: 'A todo needs a title, e.g. {"title": "Buy milk"}' }, body);
  }
  assert.deepEqual(await send('title=x', 'application/x-www-form-urlencoded'),
    { status: 415, allow: null, error: 'Send the todo as JSON, with Content-Type: application/json' });
  assert.equal((await send('{"title": "x"}', 'Application/JSON; charset=utf-8')).status, 201, 'media types ignore case');
  assert.deepEqual(await send('{}', 'application/json', 'PUT'), { status: 405, allow: 'GET, HEAD, POST', error: 'PUT is not allowed on /todos' });
  assert.deepEqual(await send('{}', 'application/json', 'PATCH', '/todos/1'),
    { status: 405, allow: 'GET, HEAD, DELETE', error: 'PATCH is not allowed on a todo' });
  const elsewhere = await fetch(`${url}/`);
  assert.equal(elsewhere.status, 404);
  assert.deepEqual(await elsewhere.json(), { error: 'Nothing at /: the todo list is at /todos' });
  assert.deepEqual((await (await fetch(`${url}/todos`)).json() as unknown[]).length, 1, 'only the good POST created a todo');
});

/** Runs a command to its end (bounded by `timeout`), resolving with its exit code and output. */
function run(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeout: number }) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, options, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

test('node --test samples/json-api.test.mjs exits 0 with every test passing', async () => {
  // Under `node --test` this variable makes a child report to its parent runner: the child must be a runner of its own.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const { code, stdout, stderr } = await run(
    process.execPath, ['--test', '--test-reporter=tap', join(samplesDir, 'json-api.test.mjs')],
    { cwd: packageRoot, env, timeout: 30_000 },
  );
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(stdout)?.[1]);
  assert.equal(code, 0, `exit code ${code}\n${stdout}\n${stderr}`);
  assert.equal(count('fail'), 0, stdout);
  assert.ok(count('pass') >= 8, `${count('pass')} passed`);
  assert.equal(count('pass'), count('tests'), 'nothing skipped or cancelled');
});
