import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corsHeaders, isPreflight, preflightHeaders } from '../lib/cors.js';

test('corsHeaders follows httpout: off never, on always, auto only with Origin', () => {
  const withOrigin = { origin: 'http://a.example' };
  const without = {};
  assert.equal(corsHeaders('off', withOrigin), undefined);
  assert.deepEqual(corsHeaders('on', without), [['Access-Control-Allow-Origin', '*']]);
  assert.deepEqual(corsHeaders('auto', withOrigin), [['Access-Control-Allow-Origin', '*']]);
  assert.equal(corsHeaders('auto', without), undefined);
});

test('isPreflight needs OPTIONS, Origin and Access-Control-Request-Method, and CORS on', () => {
  const preflight = { origin: 'http://a.example', 'access-control-request-method': 'PUT' };
  assert.equal(isPreflight('on', 'OPTIONS', preflight), true);
  assert.equal(isPreflight('auto', 'OPTIONS', preflight), true);
  assert.equal(isPreflight('off', 'OPTIONS', preflight), false);
  assert.equal(isPreflight('on', 'OPTIONS', { origin: 'http://a.example' }), false);
  assert.equal(isPreflight('on', 'GET', preflight), false);
});

const asked = {
  origin: 'http://a.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-token, content-type',
};

test('preflightHeaders allow what the browser asked for', () => {
  assert.deepEqual(preflightHeaders(asked), [
    ['Access-Control-Allow-Origin', '*'],
    ['Access-Control-Allow-Methods', 'PUT'],
    ['Access-Control-Max-Age', '600'],
    ['Access-Control-Allow-Headers', 'x-token, content-type'],
  ]);
});

test('preflightHeaders of a server that knows its methods (serveDirectory) name those, not the one asked for', () => {
  assert.deepEqual(preflightHeaders(asked, 'GET, HEAD, OPTIONS')[1], ['Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS']);
});
