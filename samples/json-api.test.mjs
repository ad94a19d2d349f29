// Tests for json-api.mjs that need no server and no port: invoke() hands the
// callback a request dictionary, the way the server would, and collects its answer.
// Run them:  node --test samples/json-api.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invoke } from 'seattle-httpserver';
import { todoApi } from './json-api.mjs';

// response.headers are looked up in any case, like request.headers: headers.location, headers['content-type'].

function create(api, body, type = 'application/json') {
  return invoke(api, { verb: 'POST', path: '/todos', headers: { 'Content-Type': type }, datastream: body });
}

test('a new list is empty', async () => {
  const response = await invoke(todoApi(), { path: '/todos' });
  assert.equal(response.statuscode, 200);
  assert.match(response.headers['content-type'], /^application\/json/);
  assert.deepEqual(JSON.parse(response.message), []);
});

test('POST creates a todo: 201, its Location, and the todo itself', async () => {
  const api = todoApi();
  const created = await create(api, JSON.stringify({ title: '  Buy milk ' }));
  assert.equal(created.statuscode, 201);
  assert.equal(created.headers.location, '/todos/1');
  assert.deepEqual(JSON.parse(created.message), { id: 1, title: 'Buy milk', done: false });

  // The Location leads to the new todo, and the list holds it.
  const fetched = await invoke(api, { path: created.headers.location });
  assert.equal(fetched.statuscode, 200);
  assert.deepEqual(JSON.parse(fetched.message), { id: 1, title: 'Buy milk', done: false });
  const list = await invoke(api, { path: '/todos' });
  assert.deepEqual(JSON.parse(list.message), [{ id: 1, title: 'Buy milk', done: false }]);
});

test('each todo gets the next id, and each todoApi() its own list', async () => {
  const api = todoApi();
  await create(api, '{"title": "one"}');
  const second = await create(api, '{"title": "two"}');
  assert.equal(second.headers.location, '/todos/2');
  const list = await invoke(api, { path: '/todos' });
  assert.deepEqual(JSON.parse(list.message).map((todo) => todo.title), ['one', 'two']);

  const other = await invoke(todoApi(), { path: '/todos' });
  assert.deepEqual(JSON.parse(other.message), []);
});

test('bad JSON or a missing title is a 400 that says why, in JSON', async () => {
  const api = todoApi();
  const bodies = ['{"title": "Buy milk"', '', 'null', '[]', '{}', '{"title": ""}', '{"title": "   "}', '{"title": 42}'];
  for (const body of bodies) {
    const response = await create(api, body);
    assert.equal(response.statuscode, 400, `body ${JSON.stringify(body)}`);
    assert.match(response.headers['content-type'], /^application\/json/);
    const { error } = JSON.parse(response.message);
    assert.equal(typeof error, 'string');
    assert.ok(error.length > 0, `an empty reason for ${JSON.stringify(body)}`);
  }
  const list = await invoke(api, { path: '/todos' });
  assert.deepEqual(JSON.parse(list.message), [], 'nothing was created');
});

test('a body that is not labelled JSON is a 415', async () => {
  const response = await create(todoApi(), 'title=Buy+milk', 'application/x-www-form-urlencoded');
  assert.equal(response.statuscode, 415);
  assert.match(JSON.parse(response.message).error, /application\/json/);
});

test('DELETE removes a todo: 204 with no body, then it is gone', async () => {
  const api = todoApi();
  await create(api, '{"title": "Buy milk"}');
  const deleted = await invoke(api, { verb: 'DELETE', path: '/todos/1' });
  assert.equal(deleted.statuscode, 204);
  assert.equal(deleted.message, '');

  const again = await invoke(api, { path: '/todos/1' });
  assert.equal(again.statuscode, 404);
  assert.deepEqual(JSON.parse(again.message), { error: 'There is no todo at /todos/1' });
  const twice = await invoke(api, { verb: 'DELETE', path: '/todos/1' });
  assert.equal(twice.statuscode, 404);
});

test('paths that are not a todo are 404', async () => {
  const api = todoApi();
  for (const path of ['/', '/todos/1', '/todos/abc', '/todos/1/extra', '/todo']) {
    const response = await invoke(api, { path });
    assert.equal(response.statuscode, 404, path);
  }
});

test('a method a resource does not support is a 405 whose Allow lists those it does', async () => {
  const api = todoApi();
  const onList = await invoke(api, { verb: 'PUT', path: '/todos' });
  assert.equal(onList.statuscode, 405);
  assert.equal(onList.headers.allow, 'GET, HEAD, POST');

  await create(api, '{"title": "Buy milk"}');
  const onTodo = await invoke(api, { verb: 'PATCH', path: '/todos/1' });
  assert.equal(onTodo.statuscode, 405);
  assert.equal(onTodo.headers.allow, 'GET, HEAD, DELETE');
});
