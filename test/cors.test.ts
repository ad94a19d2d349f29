import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { corsHeaders, isPreflight, preflightHeaders } from '../lib/cors.js';

const message = (method: string, headers: Record<string, string>) => ({ method, headers }) as unknown as IncomingMessage;

test('corsHeaders follows httpout: off never, on always, auto only with Origin', () => {
  const withOrigin = message('GET', { origin: 'http://a.example' });
  const without = message('GET', {});
  assert.equal(corsHeaders('off', withOrigin), undefined);
  assert.deepEqual(corsHeaders('on', without), [['Access-Control-Allow-Origin', '*']]);
  assert.deepEqual(corsHeaders('auto', withOrigin), [['Access-Control-Allow-Origin', '*']]);
  assert.equal(corsHeaders('auto', without), undefined);
});

test('isPreflight needs OPTIONS, Origin and Access-Control-Request-Method, and CORS on', () => {
  const preflight = message('OPTIONS', { origin: 'http://a.example', 'access-control-request-method': 'PUT' });
  assert.equal(isPreflight('on', preflight), true);
  assert.equal(isPreflight('auto', preflight), true);
  assert.equal(isPreflight('off', preflight), false);
  assert.equal(isPreflight('on', message('OPTIONS', { origin: 'http://a.example' })), false);
  assert.equal(isPreflight('on', message('GET', { origin: 'x', 'access-control-request-method': 'PUT' })), false);
});

test('preflightHeaders allow what the browser asked for', () => {
  assert.deepEqual(preflightHeaders(message('OPTIONS', {
    origin: 'http://a.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-token, content-type',
  })), [
    ['Access-Control-Allow-Origin', '*'],
    ['Access-Control-Allow-Methods', 'PUT'],
    ['Access-Control-Max-Age', '600'],
    ['Access-Control-Allow-Headers', 'x-token, content-type'],
  ]);
});
