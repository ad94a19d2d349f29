/**
 * The tutorial's samples that read what the client sent: query strings
 * (query.mjs) and headers and cookies (cookies.mjs), served on a real listener.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSample } from './samples-support.js';
import { serve } from './support.js';

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { res, status: res.status, body: await res.text() };
}

test('query: /hello greets the name from the query string, decoded', async (t) => {
  const { url } = await serve(t, await loadSample('query.mjs'));
  const ada = await get(`${url}/hello?name=Ada`);
  assert.equal(ada.status, 200);
  assert.equal(ada.res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(ada.body, 'Hello, Ada!\n');
  assert.equal((await get(`${url}/hello?name=Ada+Lovelace`)).body, 'Hello, Ada Lovelace!\n');
  assert.equal((await get(`${url}/hello?name=Ad%C3%A1&extra=1`)).body, 'Hello, Adá!\n');
  assert.equal((await get(`${url}/hello?name=%zz`)).body, 'Hello, %zz!\n', 'a malformed escape is kept as text');
});

test('query: /hello without a usable name is a 400 that shows how to ask', async (t) => {
  const { url } = await serve(t, await loadSample('query.mjs'));
  for (const target of ['/hello', '/hello?name', '/hello?name=', '/hello?name=%20', '/hello?name[first]=Ada']) {
    const { res, status, body } = await get(`${url}${target}`);
    assert.equal(status, 400, target);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(body, 'Whom should I greet? Add a name: /hello?name=Ada\n', target);
  }
  const twice = await get(`${url}/hello?name=A&name=B`);
  assert.deepEqual([twice.status, twice.body], [400, 'One name at a time, please\n']);
});

test('query: /add sums repeated keys, and refuses what is not a list of numbers', async (t) => {
  const { url } = await serve(t, await loadSample('query.mjs'));
  const add = async (query: string) => {
    const { status, body } = await get(`${url}/add${query}`);
    return `${status} ${body}`;
  };
  assert.equal(await add('?n=1&n=2&n=3.5'), '200 1 + 2 + 3.5 = 6.5\n');
  assert.equal(await add('?n=5'), '200 5 = 5\n', 'a key sent once is a string, not an array');
  assert.equal(await add('?n[]=1&n[]=2'), '200 1 + 2 = 3\n');
  assert.equal(await add('?n=-2&n=2'), '200 -2 + 2 = 0\n');
  const twenty = Array.from({ length: 20 }, (_, i) => `n=${i}`).join('&');
  assert.equal(await add(`?${twenty}`), `200 ${Array.from({ length: 20 }, (_, i) => i).join(' + ')} = 190\n`);

  assert.equal(await add(''), '400 Nothing to add. Give numbers like this: /add?n=1&n=2&n=3\n');
  assert.equal(await add('?n=abc'), '400 "abc" is not a number\n');
  assert.equal(await add('?n=1&n'), '400 null is not a number\n');
  assert.equal(await add('?n=%20'), '400 " " is not a number\n');
  assert.equal(await add('?n[x]=1'), '400 Give the numbers as n=1&n=2 (at most 20 of them)\n');
  assert.equal(await add(`?${twenty}&n=20`), '400 Give the numbers as n=1&n=2 (at most 20 of them)\n', 'qs makes an object past 20');
});

test('query: / lists the routes, anything else is a 404', async (t) => {
  const { url } = await serve(t, await loadSample('query.mjs'));
  assert.equal((await get(`${url}/`)).body, 'Try /hello?name=Ada or /add?n=1&n=2&n=3\n');
  const missing = await get(`${url}/nope?name=Ada`);
  assert.deepEqual([missing.status, missing.body], [404, 'There is nothing at /nope. Try /hello or /add\n']);
});

const KEEP = 'Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax';

test('cookies: a first visit sets two cookies in two Set-Cookie lines, never cached', async (t) => {
  const { url } = await serve(t, await loadSample('cookies.mjs'));
  const before = Date.now();
  const { res, status, body } = await get(`${url}/`, { 'User-Agent': 'test-agent/1.0' });
  assert.equal(status, 200);
  const [visits, firstVisit, ...more] = res.headers.getSetCookie();
  assert.equal(more.length, 0);
  assert.equal(visits, `visits=1; ${KEEP}`);
  const stamp = /^first-visit=([^;]+); (.*)$/.exec(firstVisit!);
  assert.ok(stamp, firstVisit);
  assert.equal(stamp[2], KEEP);
  const when = decodeURIComponent(stamp[1]!);
  assert.ok(Date.parse(when) >= before - 1000 && Date.parse(when) <= Date.now() + 1000, when);
  assert.match(stamp[1]!, /%3A/, 'the colons of the date are encoded');
  assert.equal(res.headers.get('vary'), 'Cookie, Accept-Language');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(body, `Hello! This is visit number 1 (the first was at ${when}).\n` +
    'Cookie header: (none)\nParsed:        {}\n' +
    // fetch sends `Accept-Language: *` unless told otherwise: any language, so the default one.
    'Language:      en, chosen from Accept-Language: *\nUser-Agent:    test-agent/1.0\n');
});

test('cookies: sending back what was set counts the next visit and keeps the first date', async (t) => {
  const { url } = await serve(t, await loadSample('cookies.mjs'));
  const first = await fetch(`${url}/`);
  await first.arrayBuffer();
  // What a browser does: send each cookie's name=value, without the attributes.
  const cookie = first.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
  const second = await get(`${url}/`, { Cookie: cookie });
  assert.equal(second.res.headers.getSetCookie()[0], `visits=2; ${KEEP}`);
  assert.equal(second.res.headers.getSetCookie()[1], first.headers.getSetCookie()[1], 'first-visit sent back unchanged');
  assert.match(second.body, /^Hello! This is visit number 2 \(the first was at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\)\.\n/);
  assert.ok(second.body.includes(`Cookie header: ${cookie}\n`));
});

test('cookies: the parser decodes, unquotes, keeps the first of two names, and trusts nothing', async (t) => {
  const { url } = await serve(t, await loadSample('cookies.mjs'));
  const parsed = async (cookie: string) => {
    const { body } = await get(`${url}/`, { Cookie: cookie });
    return { visit: /visit number (\d+)/.exec(body)![1], parsed: /^Parsed: +(.*)$/m.exec(body)![1] };
  };
  assert.deepEqual(await parsed('visits=41'), { visit: '42', parsed: '{"visits":"41"}' });
  assert.deepEqual(await parsed('visits=lots; __proto__=x; a="q%20r"; b=%zz; visits=7; ; junk; =v'), {
    visit: '1', parsed: '{"visits":"lots","__proto__":"x","a":"q r","b":"%zz"}',
  });
  assert.equal((await parsed('visits=1234567890')).visit, '1', 'ten digits is not a count we sent');
  assert.equal((await parsed('visits=-3')).visit, '1');
});

test('cookies: the greeting follows Accept-Language and its q weights', async (t) => {
  const { url } = await serve(t, await loadSample('cookies.mjs'));
  const greeting = async (accept?: string) => (await get(`${url}/`, accept === undefined ? {} : { 'Accept-Language': accept })).body.split('!')[0];
  assert.equal(await greeting(), 'Hello');
  assert.equal(await greeting('fr-CH, fr;q=0.9, en;q=0.8'), 'Bonjour');
  assert.equal(await greeting('en;q=0.2, DE;q=0.9, es;q=0'), 'Hallo');
  assert.equal(await greeting('es;q=0, xx'), 'Hello', 'q=0 means "not this one"');
  assert.equal(await greeting('it;q=abc, es'), 'Hola', 'a weight that is not a number is ignored');
  assert.equal(await greeting('*, constructor'), 'Hello');
});

test('cookies: /forget expires both cookies, other paths are 404', async (t) => {
  const { url } = await serve(t, await loadSample('cookies.mjs'));
  const { res, status } = await get(`${url}/forget`);
  assert.equal(status, 200);
  assert.deepEqual(res.headers.getSetCookie(), ['visits=; Path=/; Max-Age=0', 'first-visit=; Path=/; Max-Age=0']);
  assert.equal((await get(`${url}/elsewhere`)).status, 404);
});
