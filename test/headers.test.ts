import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { createHeaders, headerPairs } from '../lib/headers.js';

const raw = ['Content-Type', 'text/plain', 'X-Custom-Thing', 'a', 'x-custom-thing', 'b', 'Cookie', 'a=1', 'cookie', 'b=2', 'Host', 'first', 'HOST', 'second'];

test('lookup is case-insensitive', () => {
  const headers = createHeaders(raw);
  assert.equal(headers['Content-Type'], 'text/plain');
  assert.equal(headers['content-type'], 'text/plain');
  assert.equal(headers['CONTENT-TYPE'], 'text/plain');
  assert.equal('content-TYPE' in headers, true);
  assert.equal(headers['x-missing'], undefined);
  assert.equal('x-missing' in headers, false);
});

test('enumeration, JSON and inspection show the names as the client sent them', () => {
  const headers = createHeaders(raw);
  assert.deepEqual(Object.keys(headers), ['Content-Type', 'X-Custom-Thing', 'Cookie', 'Host']);
  assert.deepEqual(JSON.parse(JSON.stringify(headers)), {
    'Content-Type': 'text/plain', 'X-Custom-Thing': 'a, b', Cookie: 'a=1; b=2', Host: 'first',
  });
  assert.match(inspect(headers), /'X-Custom-Thing': 'a, b'/);
  assert.deepEqual({ ...headers }, JSON.parse(JSON.stringify(headers)));
});

test('repeated fields are joined as Node joins them', () => {
  const headers = createHeaders(raw);
  assert.equal(headers['x-custom-thing'], 'a, b');
  assert.equal(headers.cookie, 'a=1; b=2');
  assert.equal(headers.host, 'first', 'Node keeps the first Host');
});

test('a header named like an Object.prototype member stays a plain string key', () => {
  const headers = createHeaders(['__proto__', 'evil', 'constructor', 'x', 'toString', 'y']);
  assert.equal(Object.getPrototypeOf(headers), Object.prototype);
  assert.equal(headers['__proto__' as string], 'evil');
  assert.equal(headers.constructor as unknown, 'x');
  assert.deepEqual(Object.keys(headers), ['__proto__', 'constructor', 'toString']);
  assert.equal(({} as Record<string, unknown>).evil, undefined);
});

test('values set or deleted through any casing update the one entry', () => {
  const headers = createHeaders(['Content-Type', 'text/plain']);
  headers['content-type'] = 'text/html';
  assert.deepEqual(Object.keys(headers), ['Content-Type']);
  assert.equal(headers['Content-Type'], 'text/html');
  headers['X-New'] = '1';
  assert.equal(headers['x-new'], '1');
  delete headers['CONTENT-TYPE'];
  assert.deepEqual(Object.keys(headers), ['X-New']);
  assert.equal(headers['content-type'], undefined);
});

test('an empty header list gives an empty dictionary', () => {
  const headers = createHeaders([]);
  assert.deepEqual(Object.keys(headers), []);
  assert.equal(JSON.stringify(headers), '{}');
});

test('headerPairs pairs up Node\'s flat raw list in order', () => {
  assert.deepEqual(headerPairs(['A', '1', 'b', '2', 'A', '3']), [['A', '1'], ['b', '2'], ['A', '3']]);
});
