// A tiny JSON API: a todo list kept in memory (stop the server and it is gone).
// Run it:  node bin/httpserver.js run samples/json-api.mjs
// then:    curl -i --json '{"title":"Buy milk"}' http://127.0.0.1:8080/todos    and    curl http://127.0.0.1:8080/todos
// Its tests, which need no server:  node --test samples/json-api.test.mjs
import { HttpError, json } from 'seattle-httpserver';

// A new, empty list and the callback that serves it: each test can start from scratch.
export function todoApi() {
  const todos = new Map();
  let nextId = 1;

  async function route(request) {
    if (request.path === '/todos') {
      if (request.verb === 'GET' || request.verb === 'HEAD') return json([...todos.values()]);
      if (request.verb === 'POST') {
        const todo = { id: nextId, title: await readTitle(request), done: false };
        nextId += 1;
        todos.set(todo.id, todo);
        // 201 Created, with the new todo's own URL in Location.
        return json(todo, 201, { Location: `/todos/${todo.id}` });
      }
      throw new HttpError(405, `${request.verb} is not allowed on /todos`, { headers: { Allow: 'GET, HEAD, POST' } });
    }

    const match = /^\/todos\/(\d+)$/.exec(request.path);
    if (match === null) throw new HttpError(404, `Nothing at ${request.path}: the todo list is at /todos`);
    const todo = todos.get(Number(match[1]));
    if (todo === undefined) throw new HttpError(404, `There is no todo at ${request.path}`);
    if (request.verb === 'GET' || request.verb === 'HEAD') return json(todo);
    if (request.verb === 'DELETE') {
      todos.delete(todo.id);
      return { statuscode: 204 }; // done, and nothing to say
    }
    throw new HttpError(405, `${request.verb} is not allowed on a todo`, { headers: { Allow: 'GET, HEAD, DELETE' } });
  }

  // An API answers in JSON even when something is wrong: each HttpError becomes {"error": "..."}.
  return async function api(request) {
    try {
      return await route(request);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error; // a bug: the server answers 500 and logs it
      return json({ error: error.message }, error.status, error.headers);
    }
  };
}

export default todoApi();

async function readTitle(request) {
  const type = (request.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/json')) {
    throw new HttpError(415, 'Send the todo as JSON, with Content-Type: application/json');
  }
  const body = await request.datastream.json(); // not JSON at all: HttpError 400
  const title = body?.title;
  if (typeof title !== 'string' || title.trim() === '') {
    throw new HttpError(400, 'A todo needs a title, e.g. {"title": "Buy milk"}');
  }
  return title.trim();
}
