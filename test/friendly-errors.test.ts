/**
 * The messages a beginner meets when a response is malformed, each checked
 * word for word: they name the field, what it got, and what is allowed (or
 * what was probably meant). The messages of the command line are checked
 * in cli/run.test.ts and cli.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Callback } from '../lib/index.js';
import { errorSink, serve } from './support.js';

const MISTAKES: Array<{ mistake: string; callback: Callback; message: string }> = [
  {
    mistake: 'forgetting to return',
    callback: (() => { /* computes the answer, never returns it */ }) as unknown as Callback,
    message: "The callback must return a response object such as { statuscode: 200, message: 'hello' }. Received undefined " +
      '(did the callback forget to return, or return before an await finished?)',
  },
  {
    mistake: 'returning the body alone',
    callback: (() => 'hello') as unknown as Callback,
    message: "The callback must return a response object such as { statuscode: 200, message: 'hello' }. Received type string (\"hello\")",
  },
  {
    mistake: 'a misspelled field',
    callback: () => ({ statuscode: 200, mesage: 'hi' }) as never,
    message: 'The response has an unknown field "mesage". Did you mean "message"? Allowed fields: statuscode, statusmsg, version, headers, message.',
  },
  {
    mistake: 'a field name from another framework',
    callback: () => ({ status: 200, body: 'hi' }) as never,
    message: 'The response has an unknown field "status". Did you mean "statuscode"? Allowed fields: statuscode, statusmsg, version, headers, message.',
  },
  {
    mistake: 'no status',
    callback: () => ({ message: 'hi' }) as never,
    message: 'The response has no "statuscode". Add one, e.g. { statuscode: 200 }.',
  },
  {
    mistake: 'a status in quotes',
    callback: () => ({ statuscode: '404' }) as never,
    message: 'The response "statuscode" must be an integer from 200 to 599. Received type string ("404") (a string: write 404 without quotes)',
  },
  {
    mistake: 'an informational status',
    callback: () => ({ statuscode: 101 }),
    message: 'The response "statuscode" must be an integer from 200 to 599. Received type number (101) (1xx is not a final status)',
  },
  {
    mistake: 'an object as the message',
    callback: () => ({ statuscode: 200, message: { ok: true } }) as never,
    message: 'The response "message" must be a string, bytes, a stream, an async iterable or a file-like object with read(). ' +
      'Received an object (to send JSON, return json(value) or JSON.stringify it)',
  },
  {
    mistake: 'a number as the message',
    callback: () => ({ statuscode: 200, message: 42 }) as never,
    message: 'The response "message" must be a string, bytes, a stream, an async iterable or a file-like object with read(). ' +
      'Received type number (42); convert it with String()',
  },
  {
    mistake: 'headers as a list of lines',
    callback: () => ({ statuscode: 200, headers: ['Content-Type: text/plain'] }) as never,
    message: "The response \"headers\" must be an object such as { 'Content-Type': 'text/html' }. Received an array of length 1",
  },
  {
    mistake: 'a header value with a line break',
    callback: () => ({ statuscode: 200, headers: { 'X-Note': 'one\ntwo' } }),
    message: 'The response header "X-Note" must not contain CR, LF, NUL or other control characters. Received "one\\ntwo"',
  },
  {
    mistake: 'a header name with a space',
    callback: () => ({ statuscode: 200, headers: { 'Content Type': 'text/plain' } }),
    message: "The response header name \"Content Type\" is not a valid HTTP token (letters, digits and !#$%&'*+-.^_`|~ only).",
  },
  {
    mistake: 'a wrong Content-Length',
    callback: () => ({ statuscode: 200, headers: { 'Content-Length': 3 }, message: 'hello' }),
    message: 'The response "Content-Length" (3) disagrees with the message, which is 5 bytes long. Leave Content-Length out and it is computed for you.',
  },
  {
    mistake: 'an unknown version',
    callback: () => ({ statuscode: 200, version: '2' }) as never,
    message: "The response \"version\" must be one of '0.9', '1.0', '1.1'. Received type string (\"2\")",
  },
];

for (const { mistake, callback, message } of MISTAKES) {
  test(`${mistake}: the client gets a plain 500, the log gets the reason`, async (t) => {
    const sink = errorSink();
    const { url } = await serve(t, callback, { onError: sink.onError });
    const res = await fetch(url);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'Internal Server Error\n', 'the reason is logged, not leaked');
    assert.equal(sink.errors.length, 1);
    assert.equal(sink.errors[0]!.message, message);
  });
}
