import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValueError } from '../lib/index.js';
import { DEFAULTS, resolveOptions } from '../lib/options.js';
import { reportToStderr } from '../lib/report.js';

test('no options gives the documented safe defaults', () => {
  const options = resolveOptions(undefined);
  assert.equal(options.maxBodySize, 1024 * 1024);
  assert.equal(options.maxHeaderSize, 16 * 1024);
  assert.equal(options.headersTimeout, 10_000);
  assert.equal(options.requestTimeout, 120_000);
  assert.equal(options.keepAliveTimeout, 5_000);
  assert.equal(options.callbackTimeout, 30_000);
  assert.equal(options.maxConnections, 1_000);
  assert.equal(options.maxConnectionsPerPeer, 256);
  assert.equal(options.maxHeaderCount, 100);
  assert.equal(options.maxUrlLength, 8 * 1024);
  assert.equal(options.bodyTimeout, 10_000);
  assert.equal(options.sendTimeout, 10_000);
  assert.equal(options.maxPipelinedRequests, 16);
  assert.equal(options.maxRequestsPerConnection, 1_000);
  assert.equal(options.cors, 'off');
  assert.equal(options.exposeErrors, false);
  assert.equal(options.log, undefined);
  assert.equal(options.tls, undefined);
  assert.deepEqual(options.headers, []);
  assert.equal(options.onError, reportToStderr);
  assert.equal(options.query.strictNullHandling, true);
  assert.deepEqual({ ...DEFAULTS }, {
    maxBodySize: 1048576, maxHeaderSize: 16384, maxHeaderCount: 100, maxUrlLength: 8192,
    headersTimeout: 10000, requestTimeout: 120000, bodyTimeout: 10000, sendTimeout: 10000,
    keepAliveTimeout: 5000, callbackTimeout: 30000, maxConnections: 1000, maxConnectionsPerPeer: 256,
    maxPipelinedRequests: 16, maxRequestsPerConnection: 1000,
  });
});

test('given values replace the defaults', () => {
  const onError = () => {};
  const log = () => {};
  const options = resolveOptions({
    maxBodySize: 10, callbackTimeout: 0, cors: 'auto', exposeErrors: true, onError, log,
    headers: { 'X-A': 'b', 'X-N': 1, 'Set-Cookie': ['a=1', 'b=2'] }, query: { depth: 1 },
  });
  assert.equal(options.maxBodySize, 10);
  assert.equal(options.callbackTimeout, 0);
  assert.equal(options.cors, 'auto');
  assert.equal(options.exposeErrors, true);
  assert.equal(options.onError, onError);
  assert.equal(options.log, log);
  assert.deepEqual(options.headers, [['X-A', 'b'], ['X-N', 1], ['Set-Cookie', ['a=1', 'b=2']]]);
  assert.equal(options.query.depth, 1);
  assert.equal(options.query.strictNullHandling, true);
});

test('log: true prints a line on stdout, false logs nothing', () => {
  assert.equal(typeof resolveOptions({ log: true }).log, 'function');
  assert.equal(resolveOptions({ log: false }).log, undefined);
});

test('unknown options are refused with a did-you-mean hint', () => {
  assert.throws(() => resolveOptions({ maxbodysize: 1 }), (error: unknown) => {
    assert.ok(error instanceof ValueError);
    assert.equal(error.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(error.message, /"maxbodysize".*Did you mean "maxBodySize"\?/);
    return true;
  });
  assert.throws(() => resolveOptions({ zzz: 1 }), /unknown option "zzz"\.$/);
});

test('every option is type-checked with a message naming it', () => {
  const wrong: Record<string, unknown> = {
    maxBodySize: '1', maxHeaderSize: 1.5, headersTimeout: null, requestTimeout: '0', keepAliveTimeout: {},
    callbackTimeout: true, maxConnections: '10', maxConnectionsPerPeer: [], tls: 'cert.pem', headers: 'X-A: 1',
    cors: 1, log: 1, onError: {}, exposeErrors: 1, query: 'depth=1',
  };
  for (const [key, value] of Object.entries(wrong)) {
    assert.throws(() => resolveOptions({ [key]: value }), (error: unknown) => {
      assert.ok(error instanceof TypeError, `${key}: ${String(error)}`);
      assert.equal((error as { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
      assert.ok((error as Error).message.includes(`options.${key}`), (error as Error).message);
      return true;
    });
  }
});

test('ranges: sizes at least 1, timeouts at least 0, timeouts within setTimeout range', () => {
  for (const bad of [{ maxBodySize: 0 }, { maxHeaderSize: -1 }, { keepAliveTimeout: -1 }, { maxConnections: 0 }, { callbackTimeout: 2 ** 31 }]) {
    assert.throws(() => resolveOptions(bad), (error: unknown) => error instanceof ValueError && error.code === 'ERR_OUT_OF_RANGE');
  }
  assert.equal(resolveOptions({ maxConnectionsPerPeer: 0 }).maxConnectionsPerPeer, 0);
  assert.equal(resolveOptions({ requestTimeout: 0, headersTimeout: 60_000 }).requestTimeout, 0);
});
