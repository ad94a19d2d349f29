import assert from 'node:assert/strict';
import { test } from 'node:test';
import qs from 'qs';
import { parseQuery, queryOptions } from '../lib/query.js';

const parse = (text: string | null, user?: object) => parseQuery(text, queryOptions(user));

test("Seattle's example: 'foo=bar&baz' gives { foo: 'bar', baz: null }", () => {
  assert.deepEqual(parse('foo=bar&baz'), { foo: 'bar', baz: null });
});

test('no query gives {}', () => {
  assert.deepEqual(parse(null), {});
  assert.deepEqual(parse(''), {});
});

test('repeated keys give arrays, escapes and + are decoded', () => {
  assert.deepEqual(parse('a=1&a=2&a=3'), { a: ['1', '2', '3'] });
  assert.deepEqual(parse('name=J%C3%BCrgen+M&x=%26'), { name: 'Jürgen M', x: '&' });
  assert.deepEqual(parse('empty='), { empty: '' });
});

test('malformed escapes never throw and keep the raw text', () => {
  assert.deepEqual(parse('a=%&b=%zz&c=%E0%A4%A'), { a: '%', b: '%zz', c: '%E0%A4%A' });
});

test('__proto__ and other prototype keys cannot reach Object.prototype', () => {
  const result = parse('__proto__[polluted]=1&constructor[prototype][polluted]=1&ok=1');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(result), Object.prototype);
  assert.equal(result.ok, '1');
});

test('the query option is passed to qs on top of the Seattle defaults', () => {
  assert.deepEqual(parse('a;b=1', { delimiter: ';' }), { a: null, b: '1' });
  assert.deepEqual(parse('a&b', { strictNullHandling: false }), { a: '', b: '' });
});

test('the fast path for plain query strings gives exactly what qs gives (20,000 generated strings)', () => {
  // A copy of the defaults is never taken for the defaults themselves, so it always goes through qs.
  const fast = queryOptions(undefined);
  const viaQs = { ...fast };
  const pieces = ['a', 'b', 'name', 'x1', '=', '=', '&', '&', '+', '%20', '%41', '%C3%A9', '%ZZ', '%', '.', '-', '~',
    '[', ']', '[]', '%5B', '%5d', 'toString', '__proto__', 'constructor', '0', '12', ',', ';', 'é'];
  let seed = 42;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % below;
  };
  for (let i = 0; i < 20_000; i++) {
    let text = '';
    const length = 1 + random(12);
    for (let j = 0; j < length; j++) text += pieces[random(pieces.length)];
    assert.deepStrictEqual(parseQuery(text, fast), qs.parse(text, viaQs as qs.IParseOptions), `query string ${JSON.stringify(text)}`);
  }
});
