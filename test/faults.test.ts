/**
 * Callback faults: whatever a callback throws, returns or streams, the
 * process never dies, the client gets an honest answer (a generic 500, an
 * http-errors status, or a body visibly cut short), `onError` hears about it
 * exactly as often as it should, and the listener keeps serving.
 *
 * Cases already covered elsewhere are not repeated here: see errors.test.ts
 * (Error, string, undefined, null, Symbol, prototype-less object thrown),
 * response-validate.test.ts (undefined, null, number, string, array returned;
 * CR/LF/NUL; object, boolean, NaN header values) and response-write.test.ts
 * (a Readable, an async generator and a file-like failing midway with an Error).
 */
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { after, afterEach, beforeEach, test, type TestContext } from 'node:test';
import type { Callback, HttpResponse } from '../lib/index.js';
import { ask, captureStderr, connectRaw, decodeChunked, errorSink, parseRaw, rawRequest, serve, sleep, statusLines } from './support.js';

// The process must never see an uncaught exception or an unhandled rejection. The runner
// already fails the test that is running when one fires; this watcher also catches those
// that fire between tests (while a server is torn down) and fails the run for them.

const strays: string[] = [];
const lateStrays: string[] = [];

function show(value: unknown): string {
  try {
    return value instanceof Error ? String(value.stack ?? value) : String(value);
  } catch {
    return 'a value that cannot be shown';
  }
}

const onUncaught = (error: unknown) => { strays.push(`uncaughtException: ${show(error)}`); };
const onUnhandled = (reason: unknown) => { strays.push(`unhandledRejection: ${show(reason)}`); };
process.on('uncaughtException', onUncaught);
process.on('unhandledRejection', onUnhandled);

beforeEach(() => {
  // Whatever fired after the previous test's checks (during its teardown) is kept for the end.
  lateStrays.push(...strays.splice(0));
});

afterEach(async () => {
  // Unhandled rejections are noticed after the microtask queue drains: give them a moment.
  await sleep(20);
  const seen = strays.splice(0);
  assert.deepEqual(seen, [], 'the process saw an uncaught exception or an unhandled rejection');
});

after(async () => {
  await sleep(50);
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual([...lateStrays, ...strays], [], 'the process saw an uncaught exception or an unhandled rejection between tests');
});

// Building blocks.

/** Text that must never reach the wire: it only appears in what callbacks throw or return. */
const SECRET = 'SECRET-DETAIL';

const TRAPS = [
  'apply', 'construct', 'defineProperty', 'deleteProperty', 'get', 'getOwnPropertyDescriptor',
  'getPrototypeOf', 'has', 'isExtensible', 'ownKeys', 'preventExtensions', 'set', 'setPrototypeOf',
] as const;

/** A Proxy whose every trap throws, even `instanceof` and `typeof`-adjacent checks. */
function hostileProxy(): object {
  const handler: Record<string, () => never> = {};
  for (const trap of TRAPS) handler[trap] = () => { throw new Error(`${SECRET}: proxy trap ${trap}`); };
  return new Proxy({}, handler as ProxyHandler<object>);
}

/** A Proxy that was revoked: every operation on it, `Array.isArray` included, throws a TypeError. */
function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

const unprintable = () => ({ toString() { throw new Error(`${SECRET}: toString`); } });
const unconvertible = () => ({ [Symbol.toPrimitive]() { throw new Error(`${SECRET}: toPrimitive`); } });

/** An Error whose `status` (the http-errors convention) cannot even be read. */
function errorWithThrowingGetter(field: 'status' | 'statusCode'): Error {
  return Object.defineProperty(new Error(SECRET), field, { get() { throw new Error(`${SECRET}: ${field} getter`); } });
}

/** Settles on a later tick, like real async work. */
const later = <T>(value: T): Promise<T> => sleep(5).then(() => value);
const laterReject = (reason: unknown): Promise<never> => sleep(5).then(() => { throw reason; });

/** Answers /good with 200 'fine' and everything else with `fault`. */
function faultAt(fault: () => unknown): Callback {
  return (request) => (request.path === '/good' ? { statuscode: 200, message: 'fine' } : fault() as HttpResponse);
}

async function assertStillServing(port: number): Promise<void> {
  const good = await ask(port, '/good');
  assert.equal(good.statusLine, 'HTTP/1.1 200 OK');
  assert.equal(good.body, 'fine');
}

/** Polls `condition` every 10 ms for up to `ms`. */
async function waitUntil(condition: () => boolean, ms = 1000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 10) {
    if (condition()) return true;
    await sleep(10);
  }
  return condition();
}

interface AnswerCase {
  name: string;
  /** Runs for every request but /good: throws, rejects or returns the fault. */
  fault: () => unknown;
  /** Default 500. */
  status?: number;
  /** Default: the reason phrase of `status`, and a newline. */
  body?: string;
  /** How many reports `onError` must get. Default 1. */
  reports?: number | 'at most one';
  /** What the (first) report says. */
  reported?: RegExp;
}

/** Serves `fault`, asks for it once, and checks the answer, the reports and that /good still works. */
async function checkAnswer(t: TestContext, c: AnswerCase): Promise<void> {
  const { onError, errors } = errorSink();
  const { port, stop } = await serve(t, faultAt(c.fault), { onError });
  const status = c.status ?? 500;
  const reply = await ask(port, '/');
  assert.equal(reply.statusLine, `HTTP/1.1 ${status} ${STATUS_CODES[status]}`, `the client got:\n${reply.raw}`);
  assert.equal(reply.body, c.body ?? `${STATUS_CODES[status]}\n`);
  assert.equal(reply.headers['content-length'], String(Buffer.byteLength(reply.body, 'latin1')));
  assert.equal(statusLines(reply.raw).length, 1);
  assert.ok(!reply.raw.includes(SECRET), `the error leaked to the client:\n${reply.raw}`);
  assert.ok(!/proxy trap|getter|toString|toPrimitive|revoked/i.test(reply.body), reply.body);

  // Reports may trail the response by a tick.
  await sleep(30);
  const expected = c.reports ?? 1;
  if (expected === 'at most one') assert.ok(errors.length <= 1, `${errors.length} reports`);
  else assert.equal(errors.length, expected, `reports: ${errors.map((error) => show(error)).join(' | ')}`);
  for (const error of errors) assert.ok(error instanceof Error, 'onError got something that is not an Error');
  if (c.reported) assert.match(errors[0]!.message, c.reported);

  const reportsBefore = errors.length;
  await assertStillServing(port);
  assert.equal(errors.length, reportsBefore, 'a good request was reported');
  await stop();
}

// 1. Throws and rejections of things that are not Errors, or Errors that fight back.

const thrown: AnswerCase[] = [
  { name: 'a number thrown', fault: () => { throw 42; }, reported: /^Non-error value thrown: 42$/ },
  { name: 'a number rejected', fault: () => laterReject(42), reported: /^Non-error value thrown: 42$/ },
  { name: 'zero thrown (falsy)', fault: () => { throw 0; }, reported: /^Non-error value thrown: 0$/ },
  { name: 'false rejected (falsy)', fault: () => laterReject(false), reported: /^Non-error value thrown: false$/ },
  { name: 'an empty string thrown (falsy)', fault: () => { throw ''; }, reported: /^Non-error value thrown: $/ },
  { name: 'NaN thrown', fault: () => { throw Number.NaN; }, reported: /^Non-error value thrown: NaN$/ },
  { name: 'a BigInt thrown', fault: () => { throw 42n; }, reported: /^Non-error value thrown: 42$/ },
  { name: 'a BigInt rejected', fault: () => laterReject(42n), reported: /^Non-error value thrown: 42$/ },
  { name: 'null rejected', fault: () => laterReject(null), reported: /^Non-error value thrown: null$/ },
  { name: 'a Symbol rejected', fault: () => laterReject(Symbol(SECRET)), reported: /^Non-error value thrown: Symbol\(SECRET-DETAIL\)$/ },
  { name: 'a function thrown', fault: () => { throw function secretive() { return SECRET; }; }, reported: /^Non-error value thrown: / },
  { name: 'an array thrown', fault: () => { throw [SECRET, 1]; }, reported: /^Non-error value thrown: SECRET-DETAIL,1$/ },
  { name: 'an object whose toString throws, thrown', fault: () => { throw unprintable(); }, reported: /^Non-error value thrown: an object$/ },
  { name: 'an object whose toString throws, rejected', fault: () => laterReject(unprintable()), reported: /^Non-error value thrown: an object$/ },
  { name: 'an object whose Symbol.toPrimitive throws, thrown', fault: () => { throw unconvertible(); }, reported: /^Non-error value thrown: an object$/ },
  { name: 'an Error whose toString throws, thrown', fault: () => { throw Object.assign(new Error(SECRET), { toString: unprintable().toString }); }, reported: /^SECRET-DETAIL$/ },
  { name: 'a Proxy that throws on every trap, thrown', fault: () => { throw hostileProxy(); } },
  { name: 'a Proxy that throws on every trap, rejected', fault: () => laterReject(hostileProxy()) },
  { name: 'a revoked Proxy, thrown', fault: () => { throw revokedProxy(); } },
  { name: 'a revoked Proxy, rejected', fault: () => laterReject(revokedProxy()) },
  { name: 'an Error whose status getter throws, thrown', fault: () => { throw errorWithThrowingGetter('status'); } },
  { name: 'an Error whose status getter throws, rejected', fault: () => laterReject(errorWithThrowingGetter('status')) },
  { name: 'an Error whose statusCode getter throws, thrown', fault: () => { throw errorWithThrowingGetter('statusCode'); } },
  { name: 'an object with status "404" as a string (not an HTTP status)', fault: () => { throw { status: '404', expose: true, message: SECRET }; }, reported: /^Non-error value thrown: / },
  // An http-errors object whose other fields cannot be read still names its status; nothing of it is shown.
  {
    name: 'an http-errors object (418) whose expose getter throws',
    fault: () => { throw { status: 418, message: SECRET, get expose() { throw new Error(`${SECRET}: expose getter`); } }; },
    status: 418, reports: 'at most one',
  },
  {
    name: 'an http-errors object (418, expose) whose message getter throws',
    fault: () => { throw { status: 418, expose: true, get message() { throw new Error(`${SECRET}: message getter`); } }; },
    status: 418, reports: 'at most one',
  },
  {
    name: 'an http-errors object (418) whose headers getter throws',
    fault: () => { throw { status: 418, get headers() { throw new Error(`${SECRET}: headers getter`); } }; },
    status: 418, reports: 'at most one',
  },
  {
    name: 'an http-errors object (418, rejected) whose expose getter throws',
    fault: () => laterReject({ status: 418, get expose() { throw new Error(`${SECRET}: expose getter`); } }),
    status: 418, reports: 'at most one',
  },
];

for (const c of thrown) {
  test(`callback fault: ${c.name} answers ${c.status ?? 500} without leaking, is reported ${c.reports === 'at most one' ? 'at most once' : 'once'}, and the listener keeps serving`, async (t) => {
    await checkAnswer(t, c);
  });
}

// 2. Garbage returned, directly or through a Promise or a thenable.

const notAResponse = /^The callback must return a response object/;

const returned: AnswerCase[] = [
  { name: 'a function returned', fault: () => function respond() { return { statuscode: 200 }; }, reported: /response object.*Received function respond/ },
  { name: 'a Symbol returned', fault: () => Symbol(SECRET), reported: /response object.*Received type symbol \(Symbol\(SECRET-DETAIL\)\)/ },
  { name: 'a BigInt returned', fault: () => 200n, reported: /response object.*Received type bigint \(200n\)/ },
  { name: 'true returned', fault: () => true, reported: /response object.*Received type boolean \(true\)/ },
  { name: 'a Promise of undefined', fault: () => later(undefined), reported: /response object.*Received undefined/ },
  { name: 'a Promise of null', fault: () => later(null), reported: /response object.*Received null/ },
  { name: 'a Promise of a number', fault: () => later(200), reported: /response object.*Received type number \(200\)/ },
  { name: 'a Promise of a string', fault: () => later(SECRET), reported: notAResponse },
  { name: 'a Promise of an array', fault: () => later([200, SECRET]), reported: /response object.*Received an array/ },
  { name: 'a Promise of a function', fault: () => later(() => ({ statuscode: 200 })), reported: /response object.*Received function/ },
  { name: 'a Promise of a Symbol', fault: () => later(Symbol(SECRET)), reported: /response object.*Received type symbol/ },
  { name: 'a Promise of a BigInt', fault: () => later(200n), reported: /response object.*Received type bigint \(200n\)/ },
  { name: 'a Promise of a Promise of a Symbol', fault: () => later(later(Symbol(SECRET))), reported: /response object.*Received type symbol/ },
  { name: 'a thenable whose then() throws', fault: () => ({ then() { throw new Error(`${SECRET}: then threw`); } }), reported: /then threw/ },
  { name: 'a thenable resolving to a BigInt', fault: () => ({ then(resolve: (value: unknown) => void) { resolve(200n); } }), reported: /response object.*bigint/ },
  { name: 'a thenable rejecting with a Proxy that throws on every trap', fault: () => ({ then(_: unknown, reject: (reason: unknown) => void) { reject(hostileProxy()); } }) },
  { name: 'an object whose then getter throws', fault: () => ({ statuscode: 200, get then() { throw new Error(`${SECRET}: then getter`); } }) },
  { name: 'a Proxy that throws on every trap, returned', fault: () => hostileProxy() },
  { name: 'a Promise of a Proxy that throws on every trap', fault: () => later(hostileProxy()) },
  { name: 'a revoked Proxy, returned', fault: () => revokedProxy() },
  { name: 'a Promise of a revoked Proxy', fault: () => later(revokedProxy()) },
  { name: 'an object whose statuscode getter throws', fault: () => ({ get statuscode() { throw new Error(`${SECRET}: statuscode getter`); } }), reported: /statuscode getter/ },
  { name: 'an object whose headers getter throws', fault: () => ({ statuscode: 200, get headers() { throw new Error(`${SECRET}: headers getter`); } }), reported: /headers getter/ },
  { name: 'an object whose message getter throws a string', fault: () => ({ statuscode: 200, get message() { throw SECRET; } }), reported: /^Non-error value thrown: SECRET-DETAIL$/ },
  { name: 'headers that are a Proxy throwing on every trap', fault: () => ({ statuscode: 200, headers: hostileProxy(), message: SECRET }) },
  { name: 'a message that is a Proxy throwing on every trap', fault: () => ({ statuscode: 200, message: hostileProxy() }) },
  { name: 'a message that is a function', fault: () => ({ statuscode: 200, message: () => SECRET }), reported: /"message" must be/ },
  { name: 'a message that is a Symbol', fault: () => ({ statuscode: 200, message: Symbol(SECRET) }), reported: /"message" must be.*type symbol/ },
  { name: 'a message that is a BigInt', fault: () => ({ statuscode: 200, message: 42n }), reported: /"message" must be.*type bigint/ },
  { name: 'statuscode a BigInt', fault: () => ({ statuscode: 200n, message: SECRET }), reported: /"statuscode" must be an integer.*type bigint \(200n\)/ },
  { name: 'statuscode a Symbol', fault: () => ({ statuscode: Symbol('200'), message: SECRET }), reported: /"statuscode" must be an integer.*type symbol/ },
  { name: 'statuscode Infinity', fault: () => ({ statuscode: Number.POSITIVE_INFINITY, message: SECRET }), reported: /"statuscode" must be an integer.*Infinity/ },
  { name: 'statuscode an object whose valueOf is 200', fault: () => ({ statuscode: { valueOf: () => 200 }, message: SECRET }), reported: /"statuscode" must be an integer.*an object/ },
  { name: 'statusmsg a Symbol', fault: () => ({ statuscode: 200, statusmsg: Symbol('OK'), message: SECRET }), reported: /"statusmsg" must be a string.*type symbol/ },
  { name: 'version a Symbol', fault: () => ({ statuscode: 200, version: Symbol('1.1'), message: SECRET }), reported: /"version" must be one of.*type symbol/ },
];

for (const c of returned) {
  test(`callback fault: ${c.name} answers 500 without leaking, is reported once, and the listener keeps serving`, async (t) => {
    await checkAnswer(t, c);
  });
}

// 3. Text that would split the head: controls beyond CR/LF/NUL, characters that are not bytes, bad names.

const textCases: Array<[string, Record<string, unknown>, RegExp]> = [
  ['statusmsg with a lone CR', { statusmsg: 'OK\rX-Injected: 1' }, /"statusmsg".*CR, LF, NUL/],
  ['statusmsg ending in CR LF', { statusmsg: 'OK\r\n' }, /"statusmsg".*CR, LF, NUL/],
  ['statusmsg with SOH (0x01)', { statusmsg: 'OK\x01' }, /"statusmsg".*control characters/],
  ['statusmsg with ESC (a terminal escape)', { statusmsg: 'OK \x1b[31m' }, /"statusmsg".*control characters/],
  ['statusmsg with DEL (0x7f)', { statusmsg: 'OK\x7f' }, /"statusmsg".*control characters/],
  ['statusmsg with U+0100 (not a byte)', { statusmsg: 'OK \u0100' }, /"statusmsg"/],
  ['statusmsg with an emoji', { statusmsg: 'OK \u{1F600}' }, /"statusmsg"/],
  ['statusmsg with U+2028 LINE SEPARATOR', { statusmsg: 'OK\u2028X-Injected: 1' }, /"statusmsg"/],
  ['a header value with a lone CR', { headers: { 'X-Test': 'a\rX-Injected: 1' } }, /header "X-Test".*CR, LF, NUL/],
  ['a header value with a vertical tab', { headers: { 'X-Test': 'a\vb' } }, /header "X-Test".*control characters/],
  ['a header value with a form feed', { headers: { 'X-Test': 'a\fb' } }, /header "X-Test".*control characters/],
  ['a header value with ESC', { headers: { 'X-Test': '\x1b[2J' } }, /header "X-Test".*control characters/],
  ['a header value with DEL (0x7f)', { headers: { 'X-Test': 'a\x7f' } }, /header "X-Test".*control characters/],
  ['a header value with U+0100 (not a byte)', { headers: { 'X-Test': 'caf\u0100' } }, /header "X-Test"/],
  ['a header value with an emoji', { headers: { 'X-Test': '\u{1F600}' } }, /header "X-Test"/],
  ['a header value with U+2028 LINE SEPARATOR', { headers: { 'X-Test': 'a\u2028X-Injected: 1' } }, /header "X-Test"/],
  ['a header value ending in LF', { headers: { 'X-Test': 'a\n' } }, /header "X-Test".*CR, LF, NUL/],
  ['a Location with CR LF (response splitting)', { statuscode: 302, headers: { Location: '/next\r\n\r\n<script>SECRET</script>' } }, /header "Location".*CR, LF, NUL/],
  ['a NUL in the second Set-Cookie of an array', { headers: { 'Set-Cookie': ['a=1', 'b=2\0'] } }, /header "Set-Cookie".*CR, LF, NUL/],
  ['a header name with a non-ASCII letter', { headers: { 'X-\u00dcml': 'v' } }, /header name "X-\u00dcml" is not a valid HTTP token/],
  ['a header name with NUL', { headers: { 'X-\0': 'v' } }, /header name "X-\\u0000" is not a valid HTTP token/],
  ['a header name ending in CR LF', { headers: { 'X-Test\r\n': 'v' } }, /header name "X-Test\\r\\n" is not a valid HTTP token/],
  ['a header name with a tab', { headers: { 'X\tTest': 'v' } }, /header name "X\\tTest" is not a valid HTTP token/],
  ['a header name with parentheses', { headers: { 'X(Test)': 'v' } }, /header name "X\(Test\)" is not a valid HTTP token/],
  ['a header name with @', { headers: { 'X@Test': 'v' } }, /header name "X@Test" is not a valid HTTP token/],
  ['a header name with a slash', { headers: { 'X/Test': 'v' } }, /header name "X\/Test" is not a valid HTTP token/],
  ['a header name with a leading space', { headers: { ' X-Test': 'v' } }, /header name " X-Test" is not a valid HTTP token/],
  ['a header name with a trailing colon', { headers: { 'X-Test:': 'v' } }, /header name "X-Test:" is not a valid HTTP token/],
];

for (const [name, fields, reason] of textCases) {
  test(`callback fault: ${name} is answered 500, never reaches the wire, is reported once`, async (t) => {
    const { onError, errors } = errorSink();
    const { port, stop } = await serve(t, faultAt(() => ({ statuscode: 200, message: SECRET, ...fields })), { onError });
    const reply = await ask(port, '/');
    assert.equal(reply.statusLine, 'HTTP/1.1 500 Internal Server Error', reply.raw);
    assert.equal(reply.body, 'Internal Server Error\n');
    assert.equal(statusLines(reply.raw).length, 1);
    for (const leak of [SECRET, 'X-Injected', 'X-Test', 'Set-Cookie', 'Location', '\x1b', '\x7f', '\x01']) {
      assert.ok(!reply.raw.includes(leak), `${JSON.stringify(leak)} reached the wire:\n${reply.raw}`);
    }
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.name, 'ResponseError');
    assert.equal((errors[0] as Error & { code?: string }).code, 'ERR_INVALID_RESPONSE');
    assert.match(errors[0]!.message, reason);
    await assertStillServing(port);
    assert.equal(errors.length, 1);
    await stop();
  });
}

// 4. Header values of types that are not text.

const valueTypes: Array<[string, unknown, RegExp]> = [
  ['Infinity', Number.POSITIVE_INFINITY, /Received type number \(Infinity\)/],
  ['-Infinity', Number.NEGATIVE_INFINITY, /Received type number \(-Infinity\)/],
  ['a nested array', [['a', 'b']], /Received an array of length 2/],
  ['an array holding null', ['a', null], /Received null/],
  ['an array holding an object', ['a', { b: 1 }], /Received an object/],
  ['an array holding a Symbol', ['a', Symbol('b')], /Received type symbol/],
  ['a Symbol', Symbol('value'), /Received type symbol \(Symbol\(value\)\)/],
  ['a BigInt', 42n, /Received type bigint \(42n\)/],
  ['a function', function value() { return 'v'; }, /Received function value/],
  ['null', null, /Received null/],
  ['undefined', undefined, /Received undefined/],
  ['a Date', new Date(0), /Received an instance of Date/],
  ['an object whose toString throws', unprintable(), /Received an object/],
  ['a Proxy that throws on every trap', hostileProxy(), /./],
];

for (const [name, value, reason] of valueTypes) {
  test(`callback fault: a header value that is ${name} is answered 500, reported once, and the listener keeps serving`, async (t) => {
    const { onError, errors } = errorSink();
    const { port, stop } = await serve(t, faultAt(() => ({ statuscode: 200, headers: { 'X-Test': value }, message: SECRET })), { onError });
    const reply = await ask(port, '/');
    assert.equal(reply.statusLine, 'HTTP/1.1 500 Internal Server Error', reply.raw);
    assert.equal(reply.body, 'Internal Server Error\n');
    assert.ok(!reply.raw.includes('X-Test') && !reply.raw.includes(SECRET), reply.raw);
    await sleep(30);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof Error);
    assert.match(errors[0]!.message, reason);
    if (!name.startsWith('a Proxy')) assert.match(errors[0]!.message, /header "X-Test" must be a string, a finite number or an array of strings/);
    await assertStillServing(port);
    assert.equal(errors.length, 1);
    await stop();
  });
}

// 5. Bodies that fail after some bytes were sent: the connection is cut, so the client sees an
//    incomplete chunked body, and onError hears about it exactly once.

const FIRST = 'first part';
/** Gives the first chunk time to reach the client before the failure. */
const pause = () => sleep(20);

const midway: Array<{ name: string; make: () => unknown; reported?: RegExp }> = [
  {
    name: 'a web ReadableStream that errors',
    make: () => new ReadableStream<Uint8Array>({
      async start(controller) { controller.enqueue(new TextEncoder().encode(FIRST)); await pause(); controller.error(new Error('web stream failed')); },
    }),
    reported: /^web stream failed$/,
  },
  {
    name: 'a web ReadableStream that errors with a string',
    make: () => new ReadableStream<string>({ async start(controller) { controller.enqueue(FIRST); await pause(); controller.error('web stream failed'); } }),
    reported: /^Non-error value thrown: web stream failed$/,
  },
  { name: 'an async generator that throws a string', make: () => (async function* () { yield FIRST; await pause(); throw 'generator failed'; })(), reported: /^Non-error value thrown: generator failed$/ },
  { name: 'an async generator that throws a number', make: () => (async function* () { yield FIRST; await pause(); throw 7; })(), reported: /^Non-error value thrown: 7$/ },
  { name: 'an async generator that throws undefined', make: () => (async function* () { yield FIRST; await pause(); throw undefined; })() },
  { name: 'an async generator that throws null', make: () => (async function* () { yield FIRST; await pause(); throw null; })() },
  { name: 'an async generator that throws a Proxy that throws on every trap', make: () => (async function* () { yield FIRST; await pause(); throw hostileProxy(); })() },
  { name: 'an async generator that yields a number', make: () => (async function* () { yield FIRST; await pause(); yield 42; })(), reported: /chunk/ },
  { name: 'an async generator that yields a plain object', make: () => (async function* () { yield FIRST; await pause(); yield { not: 'bytes' }; })(), reported: /chunk/ },
  {
    name: 'a hand-written async iterator whose next() throws synchronously',
    make: () => {
      let calls = 0;
      return { [Symbol.asyncIterator]: () => ({
        next: () => {
          calls += 1;
          if (calls === 1) return Promise.resolve({ value: FIRST, done: false });
          if (calls === 2) return pause().then(() => ({ value: '', done: false }));
          throw new Error('next() threw');
        },
      }) };
    },
    reported: /^next\(\) threw$/,
  },
  {
    name: 'a Node Readable whose _read throws synchronously',
    make: () => {
      let step = 0;
      return new Readable({
        read() {
          step += 1;
          if (step === 1) this.push(FIRST);
          else if (step === 2) setTimeout(() => this.push(''), 20);
          else throw new Error('_read threw');
        },
      });
    },
    reported: /^_read threw$/,
  },
  {
    name: 'a Node Readable that fails and then emits a second error',
    make: () => {
      let step = 0;
      const stream: Readable = new Readable({
        read() {
          step += 1;
          if (step === 1) this.push(FIRST);
          else {
            setTimeout(() => {
              stream.destroy(new Error('first failure'));
              setTimeout(() => stream.emit('error', new Error('second failure')), 5);
            }, 20);
          }
        },
      });
      return stream;
    },
    reported: /^first failure$/,
  },
  {
    name: 'a Node Readable destroyed with a string',
    make: () => {
      let step = 0;
      return new Readable({ read() { step += 1; if (step === 1) this.push(FIRST); else setTimeout(() => this.destroy('readable failed' as unknown as Error), 20); } });
    },
    reported: /readable failed/,
  },
  {
    name: 'a file-like whose read() throws synchronously',
    make: () => { let reads = 0; return { read: () => { reads += 1; if (reads === 1) return FIRST; throw new Error('read threw'); } }; },
    reported: /^read threw$/,
  },
  {
    name: 'a file-like whose read() rejects with a string',
    make: () => { let reads = 0; return { read: () => { reads += 1; return reads === 1 ? FIRST : pause().then(() => Promise.reject('read rejected')); } }; },
    reported: /read rejected$/,
  },
  {
    name: 'a file-like whose read() throws a Proxy that throws on every trap',
    make: () => { let reads = 0; return { read: () => { reads += 1; if (reads === 1) return FIRST; throw hostileProxy(); } }; },
  },
  {
    name: 'a file-like whose read() returns an object',
    make: () => { let reads = 0; return { read: () => { reads += 1; return reads === 1 ? FIRST : { not: 'bytes' }; } }; },
    reported: /read\(\) must return a string or bytes/,
  },
];

for (const { name, make, reported } of midway) {
  test(`body fault midway: ${name} cuts the connection, the body is visibly incomplete, one report, still serving`, async (t) => {
    const { onError, errors } = errorSink();
    const { port, stop } = await serve(t, faultAt(() => ({ statuscode: 200, message: make() })), { onError });
    const connection = await connectRaw(t, port);
    const started = performance.now();
    connection.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await connection.waitClose(2000), `the connection stayed open; received:\n${connection.text}`);
    assert.ok(performance.now() - started < 1500);
    assert.match(connection.text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\nTransfer-Encoding: chunked\r\n/);
    const { body, complete } = decodeChunked(connection.text.slice(connection.text.indexOf('\r\n\r\n') + 4));
    assert.equal(complete, false, 'the client was told the body was complete');
    assert.equal(body, FIRST);
    assert.ok(!connection.text.includes(SECRET));
    await assertReportedOnceThenServing(errors, reported, port);
    await stop();
  });
}

/** Exactly one report (matching `reported`, when given), and the listener still serves without reporting more. */
async function assertReportedOnceThenServing(errors: Error[], reported: RegExp | undefined, port: number): Promise<void> {
  assert.ok(await waitUntil(() => errors.length > 0, 500), 'the failure was never reported');
  await sleep(50);
  assert.equal(errors.length, 1, `reports: ${errors.map((error) => show(error)).join(' | ')}`);
  assert.ok(errors[0] instanceof Error);
  if (reported) assert.match(errors[0]!.message, reported);
  await assertStillServing(port);
  assert.equal(errors.length, 1);
}

// 6. Bodies that fail before their first byte. Nothing of the body was sent, so the
//    client may get a clean 500; what it must never get is a complete success, or silence.

const atStart: Array<{ name: string; make: () => unknown; reported?: RegExp }> = [
  { name: 'an async iterable whose [Symbol.asyncIterator]() throws', make: () => ({ [Symbol.asyncIterator]() { throw new Error('no iterator'); } }), reported: /^no iterator$/ },
  { name: 'an async generator that throws before yielding', make: () => (async function* () { await pause(); throw new Error('generator failed at once'); })(), reported: /^generator failed at once$/ },
  { name: 'an async iterator without next()', make: () => ({ [Symbol.asyncIterator]: () => ({}) }), reported: /next|not a function/ },
  { name: 'a web ReadableStream that errors at once', make: () => new ReadableStream({ start(controller) { controller.error(new Error('web stream failed at once')); } }), reported: /^web stream failed at once$/ },
  { name: 'a file-like whose first read() throws', make: () => ({ read() { throw new Error('first read threw'); } }), reported: /^first read threw$/ },
  { name: 'a file-like whose first read() rejects', make: () => ({ read: () => pause().then(() => Promise.reject(new Error('first read rejected'))) }), reported: /^first read rejected$/ },
  { name: 'an object that looks like a Node Readable (pipe, on, read) but is not one', make: () => ({ pipe() { return this; }, on() { return this; }, read() { return null; } }) },
  { name: 'an object that looks like a web stream but whose getReader() throws', make: () => ({ getReader() { throw new Error('getReader threw'); } }) },
];

for (const { name, make, reported } of atStart) {
  test(`body fault at start: ${name} ends the exchange at once without a false success, one report, still serving`, async (t) => {
    const { onError, errors } = errorSink();
    const { port, stop } = await serve(t, faultAt(() => ({ statuscode: 200, message: make() })), { onError });
    const connection = await connectRaw(t, port);
    connection.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    // Either a complete 500 on a connection that stays usable, or a connection that is closed.
    const clean500 = /^HTTP\/1\.1 500 Internal Server Error\r\n[^]*\r\n\r\nInternal Server Error\n$/;
    const answered = await waitUntil(() => connection.closed || clean500.test(connection.text), 2000);
    assert.ok(answered, `neither a 500 nor a close within 2 s; received:\n${JSON.stringify(connection.text)}`);
    const text = connection.text;
    if (text.startsWith('HTTP/1.1 500')) {
      assert.equal(statusLines(text).length, 1);
    } else if (text !== '') {
      assert.ok(connection.closed);
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\nTransfer-Encoding: chunked\r\n/, text);
      assert.equal(decodeChunked(text.slice(text.indexOf('\r\n\r\n') + 4)).complete, false, 'the client was told the body was complete');
    }
    assert.ok(!text.includes(SECRET));
    await assertReportedOnceThenServing(errors, reported, port);
    await stop();
  });
}

// 7. The same faults with the default reporter, with exposeErrors, on one connection, and in a crowd.

test('with the default reporter, unprintable throws give a 500 and one stderr line each, and the listener keeps serving', async (t) => {
  const lines = captureStderr(t);
  const faults: Record<string, () => unknown> = {
    '/proxy': () => { throw hostileProxy(); },
    '/revoked': () => { throw revokedProxy(); },
    '/tostring': () => { throw unprintable(); },
    '/message-getter': () => { throw Object.defineProperty(new Error('x'), 'message', { get() { throw new Error('message getter'); } }); },
  };
  const { id, port, stop } = await serve(t, (request) => {
    if (request.path === '/good') return { statuscode: 200, message: 'fine' };
    return faults[request.path]!() as HttpResponse;
  });
  for (const path of Object.keys(faults)) {
    const reply = await ask(port, path);
    assert.equal(reply.statusLine, 'HTTP/1.1 500 Internal Server Error', `${path}:\n${reply.raw}`);
    assert.equal(reply.body, 'Internal Server Error\n');
  }
  await sleep(30);
  assert.equal(lines.length, Object.keys(faults).length, lines.join(''));
  Object.keys(faults).forEach((path, index) => {
    assert.match(lines[index]!, new RegExp(`^seattle-httpserver \\[httpdid ${id}\\] GET ${path}: [^\\n]*\\n$`));
  });
  assert.ok(!lines.join('').includes(SECRET + ': toString'), 'the reporter ran the hostile toString');
  await assertStillServing(port);
  assert.equal(lines.length, Object.keys(faults).length);
  await stop();
});

test('exposeErrors: true with a Proxy or an unprintable object thrown still answers a 500 naming a non-error value', async (t) => {
  const { onError, errors } = errorSink();
  const { port, stop } = await serve(t, (request) => {
    if (request.path === '/good') return { statuscode: 200, message: 'fine' };
    if (request.path === '/proxy') throw hostileProxy();
    throw unprintable();
  }, { onError, exposeErrors: true });
  for (const path of ['/proxy', '/tostring']) {
    const reply = await ask(port, path);
    assert.equal(reply.statusLine, 'HTTP/1.1 500 Internal Server Error', `${path}:\n${reply.raw}`);
    assert.match(reply.body, /^Non-error value thrown: .+\n$/);
    assert.equal(reply.headers['content-length'], String(Buffer.byteLength(reply.body, 'latin1')));
  }
  assert.equal(errors.length, 2);
  await assertStillServing(port);
  await stop();
});

test('faults pipelined on one keep-alive connection are answered in order and the connection stays usable', async (t) => {
  const { onError, errors } = errorSink();
  const faults: Record<string, () => unknown> = {
    '/throw-number': () => { throw 42; },
    '/reject-proxy': () => laterReject(hostileProxy()),
    '/return-symbol': () => Symbol('x'),
    '/promise-bigint': () => later(1n),
    '/bad-header': () => ({ statuscode: 200, headers: { 'X-Test': 'a\x7f' } }),
    '/teapot': () => { throw { status: 418 }; },
  };
  const { port, stop } = await serve(t, (request) => {
    if (request.path === '/good') return { statuscode: 200, message: 'fine' };
    return faults[request.path]!() as HttpResponse;
  }, { onError });
  const paths = ['/throw-number', '/good', '/reject-proxy', '/good', '/return-symbol', '/promise-bigint', '/bad-header', '/teapot', '/good'];
  const connection = await connectRaw(t, port);
  connection.socket.write(paths.map((path) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
  const ok = await waitUntil(() => statusLines(connection.text).length === paths.length && connection.text.endsWith('fine'), 2000);
  assert.ok(ok, `received:\n${connection.text}`);
  assert.deepEqual(statusLines(connection.text).map((line) => line.split(' ')[1]), ['500', '200', '500', '200', '500', '500', '500', '418', '200']);
  assert.equal(connection.closed, false);
  assert.equal(errors.length, 5, errors.map((error) => error.message).join(' | '));
  connection.socket.write('GET /good HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(await waitUntil(() => statusLines(connection.text).length === paths.length + 1 && connection.text.endsWith('fine')));
  await stop();
});

test('a crowd of 200 concurrent faulting requests gets 200 generic 500s and 200 reports, then a 200', async (t) => {
  const { onError, errors } = errorSink();
  const kinds: Array<() => unknown> = [
    () => { throw new Error(SECRET); },
    () => laterReject(Symbol(SECRET)),
    () => later(undefined),
    () => ({ statuscode: 200, headers: { 'X-Test': 42n }, message: SECRET }),
  ];
  let n = 0;
  const { port, stop } = await serve(t, (request) => {
    if (request.path === '/good') return { statuscode: 200, message: 'fine' };
    return kinds[n++ % kinds.length]!() as HttpResponse;
  }, { onError, maxConnectionsPerPeer: 0 });
  const started = performance.now();
  // Each asks with Connection: close and waits for the close (not for a quiet spell: 200 at once can be slow).
  const replies = (await Promise.all(Array.from({ length: 200 }, () =>
    rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { idleMs: 5000 }))))
    .map(({ text, closed }) => ({ raw: text, closed, ...parseRaw(text) }));
  assert.ok(performance.now() - started < 10_000);
  for (const reply of replies) {
    assert.equal(reply.statusLine, 'HTTP/1.1 500 Internal Server Error');
    assert.equal(reply.body, 'Internal Server Error\n');
    assert.equal(reply.closed, true);
    assert.ok(!reply.raw.includes(SECRET));
  }
  await sleep(30);
  assert.equal(errors.length, 200);
  await assertStillServing(port);
  await stop();
});
