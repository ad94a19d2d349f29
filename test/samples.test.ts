/**
 * The first samples of the tutorial, each served on a real listener: hello,
 * echo, form, stream, errors, and the file server. Running a sample as a
 * process is the command line's business (test/cli.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSample } from './samples-support.js';
import { errorSink, parseRaw, rawRequest, serve } from './support.js';

test('hello answers plain text naming the path', async (t) => {
  const { url } = await serve(t, await loadSample('hello.mjs'));
  const res = await fetch(`${url}/some/where?x=1`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await res.text(), 'Hello! You asked for /some/where\n');
});

test('echo answers pretty JSON of the request dictionary and the body', async (t) => {
  const { url, id } = await serve(t, await loadSample('echo.mjs'));
  const res = await fetch(`${url}/a%20b?x=1&y&z=2&z=3`, {
    method: 'POST',
    headers: { 'X-Test': 'yes', 'Content-Type': 'text/plain' },
    body: 'hi there',
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(res.headers.get('vary'), 'Accept');
  const text = await res.text();
  assert.match(text, /^\{\n {2}"verb": "POST",\n/, 'indented JSON');
  const seen = JSON.parse(text);
  assert.deepEqual(Object.keys(seen), [
    'verb', 'path', 'querystr', 'querydict', 'version', 'headers', 'httpdid', 'remoteipstr', 'remoteportnum', 'body',
  ]);
  assert.equal(seen.verb, 'POST');
  assert.equal(seen.path, '/a%20b');
  assert.equal(seen.querystr, 'x=1&y&z=2&z=3');
  assert.deepEqual(seen.querydict, { x: '1', y: null, z: ['2', '3'] });
  assert.equal(seen.version, '1.1');
  const headers = Object.fromEntries(Object.entries(seen.headers).map(([name, value]) => [name.toLowerCase(), value]));
  assert.equal(headers['x-test'], 'yes');
  assert.equal(headers['content-length'], '8');
  assert.equal(seen.httpdid, id);
  assert.equal(seen.remoteipstr, '127.0.0.1');
  assert.ok(Number.isInteger(seen.remoteportnum) && seen.remoteportnum > 0, `remoteportnum ${seen.remoteportnum}`);
  assert.equal(seen.body, 'hi there');
});

test('echo shows header names as sent and the HTTP/1.0 version (raw socket)', async (t) => {
  const { port } = await serve(t, await loadSample('echo.mjs'));
  const { text, closed } = await rawRequest(port, 'GET /raw?flag HTTP/1.0\r\nX-Mixed-Case: Yes\r\n\r\n');
  const res = parseRaw(text);
  assert.equal(res.statusLine, 'HTTP/1.0 200 OK');
  assert.equal(closed, true, 'an HTTP/1.0 answer closes the connection');
  const seen = JSON.parse(res.body);
  assert.equal(seen.version, '1.0');
  assert.equal(seen.path, '/raw');
  assert.deepEqual(seen.querydict, { flag: null });
  assert.deepEqual(seen.headers, { 'X-Mixed-Case': 'Yes' });
  assert.equal(seen.body, '');
});

test('echo gives a browser an HTML page with every value escaped', async (t) => {
  const { url } = await serve(t, await loadSample('echo.mjs'));
  const res = await fetch(`${url}/page?q=${encodeURIComponent('<i>&')}`, {
    method: 'POST',
    headers: { Accept: 'text/html,application/xhtml+xml', 'X-Evil': '<script>alert("x")</script>' },
    body: "<b>it's</b>",
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  const page = await res.text();
  assert.match(page, /^<!doctype html>/);
  assert.ok(!page.includes('<script'), 'no markup from the request reaches the page');
  assert.ok(!page.includes('<b>') && !page.includes('<i>'), 'no markup from the request reaches the page');
  assert.ok(page.includes('&lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;'), 'header value escaped');
  assert.ok(page.includes('<pre>&lt;b&gt;it&#39;s&lt;/b&gt;</pre>'), 'body escaped');
  assert.ok(page.includes('&quot;q&quot;: &quot;&lt;i&gt;&amp;&quot;'), 'decoded query value escaped');
  assert.ok(page.includes('<tr><th>path</th><td><pre>/page</pre></td></tr>'));
});

test('form: GET shows the form, HEAD its head only', async (t) => {
  const { url } = await serve(t, await loadSample('form.mjs'));
  const res = await fetch(`${url}/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  const page = await res.text();
  assert.match(page, /<form method="post" action="\/">/);
  assert.match(page, /<input name="name">/);
  assert.match(page, /<textarea name="message">/);

  const head = await fetch(`${url}/`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(page)));
  assert.equal(await head.text(), '');
});

test('form: POST shows the submitted values escaped', async (t) => {
  const { url } = await serve(t, await loadSample('form.mjs'));
  const res = await fetch(`${url}/`, {
    method: 'POST',
    body: new URLSearchParams({ name: '<Ann> "A"', message: 'a & b\n<script>x</script>' }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  const page = await res.text();
  assert.ok(page.includes('<h1>Thank you, &lt;Ann&gt; &quot;A&quot;</h1>'), page);
  assert.ok(page.includes('<blockquote>a &amp; b\n&lt;script&gt;x&lt;/script&gt;</blockquote>'), page);
  assert.ok(!page.includes('<script>'));
});

test('form: other methods get 405 with Allow, other types 415, other paths 404', async (t) => {
  const { url } = await serve(t, await loadSample('form.mjs'));
  const put = await fetch(`${url}/`, { method: 'PUT', body: 'x' });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'GET, HEAD, POST');
  assert.equal(put.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await put.text(), 'PUT is not allowed here\n');

  const asJson = await fetch(`${url}/`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  assert.equal(asJson.status, 415);
  await asJson.arrayBuffer();

  const elsewhere = await fetch(`${url}/other`);
  assert.equal(elsewhere.status, 404);
  assert.equal(await elsewhere.text(), 'Nothing at /other\n');
});

test('stream sends its lines one by one with chunked encoding', async (t) => {
  const { url, port } = await serve(t, await loadSample('stream.mjs'));
  const res = await fetch(`${url}/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(res.headers.get('content-length'), null);
  const arrivals: Array<{ at: number; text: string }> = [];
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) arrivals.push({ at: performance.now(), text: decoder.decode(chunk) });
  assert.equal(arrivals.map((a) => a.text).join(''), '3...\n2...\n1...\nLift off!\n');
  assert.ok(arrivals.length >= 2, `the body came in ${arrivals.length} piece(s)`);
  // The generator sleeps 3 x 150 ms: a buffered body would arrive all at once.
  const spread = arrivals.at(-1)!.at - arrivals[0]!.at;
  assert.ok(spread >= 200, `first and last piece ${spread.toFixed(0)} ms apart`);

  const raw = parseRaw((await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).text);
  assert.equal(raw.headers['transfer-encoding'], 'chunked');
  assert.equal(raw.body, '5\r\n3...\n\r\n5\r\n2...\n\r\n5\r\n1...\n\r\na\r\nLift off!\n\r\n0\r\n\r\n');
});

test('errors: each route shows one way to answer with a status', async (t) => {
  const sink = errorSink();
  const { url } = await serve(t, await loadSample('errors.mjs'), { onError: sink.onError });
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`, { redirect: 'manual' });
    return { status: res.status, type: res.headers.get('content-type'), location: res.headers.get('location'), body: await res.text() };
  };
  const plain = 'text/plain; charset=utf-8';

  assert.deepEqual(await get('/missing'), { status: 404, type: plain, location: null, body: 'There is nothing at /missing\n' });
  assert.deepEqual(await get('/teapot'), { status: 418, type: plain, location: null, body: "I'm a teapot: I cannot brew coffee\n" });
  const old = await get('/old');
  assert.equal(old.status, 302);
  assert.equal(old.location, '/new');
  assert.deepEqual(await get('/new'), { status: 200, type: plain, location: null, body: 'Hello from /new\n' });
  assert.equal((await get('/')).status, 200);
  assert.equal((await get('/elsewhere')).status, 404);
  assert.equal(sink.errors.length, 0, 'HttpErrors are answers, not errors to report');

  const boom = await get('/boom');
  assert.deepEqual(boom, { status: 500, type: plain, location: null, body: 'Internal Server Error\n' });
  assert.equal(sink.errors.length, 1);
  assert.equal(sink.errors[0]!.message, 'something broke inside the callback');

  // Following the redirect the way a browser does.
  const followed = await fetch(`${url}/old`);
  assert.equal(followed.status, 200);
  assert.equal(followed.url, `${url}/new`);
  assert.equal(await followed.text(), 'Hello from /new\n');
});

test('files.mjs: an API route beside a served folder, with a listing and 404s for what is not there', async (t) => {
  const { url } = await serve(t, await loadSample('files.mjs'), { onError: errorSink().onError });
  const time = await fetch(`${url}/api/time`);
  assert.equal(time.status, 200);
  assert.match(((await time.json()) as { now: string }).now, /^\d{4}-\d\d-\d\dT/);
  const file = await fetch(`${url}/hello.mjs`);
  assert.equal(file.status, 200);
  assert.match(await file.text(), /export default function hello/);
  const listing = await fetch(`${url}/`);
  assert.match(await listing.text(), /href="files\.mjs"/);
  assert.equal((await fetch(`${url}/nothing-here.txt`)).status, 404);
  assert.equal((await fetch(`${url}/../package.json`)).status, 404);
});
