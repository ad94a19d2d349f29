import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpRequest } from '../lib/index.js';
import { formatLogLine, reportToStderr, safelyReport } from '../lib/report.js';
import { captureStderr } from './support.js';

const request = { httpdid: 7, verb: 'GET', path: '/x' } as HttpRequest;

test('formatLogLine: who, when, what, status, bytes and time on one line', () => {
  const line = formatLogLine({
    httpdid: 1, remoteipstr: '127.0.0.1', verb: 'GET', target: '/a?b=1', version: '1.1', statuscode: 200, bytes: 12, durationMs: 0.42,
  }, new Date('2026-11-22T03:20:33.000Z'));
  assert.equal(line, '127.0.0.1 [2026-11-22T03:20:33.000Z] "GET /a?b=1 HTTP/1.1" 200 12 0.4ms');
  assert.match(formatLogLine({ httpdid: 1, remoteipstr: '::1', verb: 'GET', target: '/', version: '1.0', statuscode: 200, bytes: undefined, durationMs: 1 }), / 200 - 1\.0ms$/);
});

test('reportToStderr writes one line naming the listener, the request and the reason', (t) => {
  const lines = captureStderr(t);
  reportToStderr(new TypeError('bad\nthing'), request);
  reportToStderr(new Error('no request'));
  assert.deepEqual(lines, [
    'seattle-httpserver [httpdid 7] GET /x: TypeError: bad thing\n',
    'seattle-httpserver: Error: no request\n',
  ]);
});

test('safelyReport wraps non-errors and survives a throwing reporter', (t) => {
  const seen: Error[] = [];
  safelyReport((error) => { seen.push(error); }, 'a string', request);
  safelyReport((error) => { seen.push(error); }, Object.create(null), request);
  assert.match(seen[0]!.message, /Non-error value thrown: a string/);
  assert.match(seen[1]!.message, /Non-error value thrown: /);
  const lines = captureStderr(t);
  safelyReport(() => { throw new Error('reporter broke'); }, new Error('original'), request);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /onError threw: reporter broke/);
});
