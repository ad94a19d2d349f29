import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { stopCallback } from '../lib/index.js';
import { errorSink, makeCertificate, rawRequest, serve, sleep } from './support.js';

const certificate = makeCertificate();

function httpsGet(port: number, path: string, agent?: https.Agent): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    }).on('error', reject);
  });
}

test('tls with PEM text serves HTTPS, and request.scheme says so', async (t) => {
  const served = await serve(t, (request) => ({ statuscode: 200, message: `${request.scheme} ${request.path}` }), { tls: certificate });
  const response = await httpsGet(served.port, '/secure');
  assert.equal(response.status, 200);
  assert.equal(response.body, 'https /secure');
  // Plain HTTP on the TLS port gets no HTTP answer.
  const { text } = await rawRequest(served.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 500 });
  assert.doesNotMatch(text, /^HTTP\/1\.1 200/);
});

test('tls with file paths reads the PEM files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'seattle-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'cert.pem'), certificate.cert);
  writeFileSync(join(dir, 'key.pem'), certificate.key);
  const served = await serve(t, () => ({ statuscode: 200, message: 'from files' }), {
    tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') },
  });
  assert.equal((await httpsGet(served.port, '/')).body, 'from files');
});

test('a missing certificate file rejects registerCallback with a ValueError naming it (ENOENT as the cause)', async (t) => {
  await assert.rejects(
    serve(t, () => ({ statuscode: 200 }), { tls: { cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' } }),
    (error: NodeJS.ErrnoException) => error.code === 'ERR_INVALID_ARG_VALUE' && (error.cause as NodeJS.ErrnoException).code === 'ENOENT' &&
      error.message.includes("'/nonexistent/cert.pem' was not found"),
  );
});

test('HTTPS: a TCP connection that never starts its TLS handshake is closed after headersTimeout', async (t) => {
  const served = await serve(t, () => ({ statuscode: 200 }), { tls: certificate, headersTimeout: 300, requestTimeout: 1000 });
  const silent = net.connect(served.port, '127.0.0.1');
  silent.on('error', () => {});
  t.after(() => silent.destroy());
  await new Promise((resolve) => silent.once('connect', resolve));
  const started = performance.now();
  await new Promise((resolve) => silent.once('close', resolve));
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 250 && elapsed < 2000, `closed after ${elapsed.toFixed(0)} ms`);
});

test('stopping an HTTPS listener closes idle TLS connections at once, handshaken or not', async (t) => {
  const served = await serve(t, () => ({ statuscode: 200, message: 'x' }), { tls: certificate });
  const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
  t.after(() => agent.destroy());
  assert.equal((await httpsGet(served.port, '/', agent)).status, 200);
  // A TCP connection that never starts its handshake.
  const silent = net.connect(served.port, '127.0.0.1');
  silent.on('error', () => {});
  await new Promise((resolve) => silent.once('connect', resolve));
  const silentClosed = new Promise((resolve) => silent.once('close', resolve));
  // A finished handshake with no request yet.
  const quiet = tls.connect({ port: served.port, host: '127.0.0.1', rejectUnauthorized: false });
  quiet.on('error', () => {});
  await new Promise((resolve) => quiet.once('secureConnect', resolve));
  const quietClosed = new Promise((resolve) => quiet.once('close', resolve));

  const started = performance.now();
  await stopCallback(served.id);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 500, `stop took ${elapsed.toFixed(0)} ms`);
  await Promise.all([silentClosed, quietClosed]);
});

test('headersTimeout: a client that never finishes its headers is answered 408 and cut off', async (t) => {
  const { onError } = errorSink();
  let called = 0;
  const served = await serve(t, () => { called++; return { statuscode: 200 }; }, {
    headersTimeout: 300, requestTimeout: 1000, onError,
  });
  const started = performance.now();
  const { text, closed } = await rawRequest(served.port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ', { idleMs: 3000 });
  const elapsed = performance.now() - started;
  assert.equal(closed, true);
  assert.match(text, /^HTTP\/1\.1 408 /);
  assert.ok(elapsed >= 250 && elapsed < 2000, `cut off after ${elapsed.toFixed(0)} ms`);
  assert.equal(called, 0);
});

test('keepAliveTimeout: an idle keep-alive connection is closed after it', async (t) => {
  const served = await serve(t, () => ({ statuscode: 200, message: 'x' }), { keepAliveTimeout: 200 });
  const started = performance.now();
  const { text, closed } = await rawRequest(served.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 3000 });
  const elapsed = performance.now() - started;
  assert.match(text, /Keep-Alive: timeout=0?\.?2?/i);
  assert.equal(closed, true);
  assert.ok(elapsed >= 150 && elapsed < 2000, `closed after ${elapsed.toFixed(0)} ms`);
});

test('options.headers are sent with every response, callback headers win', async (t) => {
  const served = await serve(t, (request) => ({
    statuscode: 200,
    headers: request.path === '/own' ? { 'x-powered-by': 'callback' } : ({} as Record<string, string>),
    message: 'x',
  }), { headers: { 'X-Powered-By': 'seattle', 'X-Frame-Options': 'DENY' } });
  const plain = await fetch(`${served.url}/`);
  assert.equal(plain.headers.get('x-powered-by'), 'seattle');
  assert.equal(plain.headers.get('x-frame-options'), 'DENY');
  const own = await fetch(`${served.url}/own`);
  assert.equal(own.headers.get('x-powered-by'), 'callback');
  assert.equal(own.headers.get('x-frame-options'), 'DENY');
});

test('requestTimeout: a body that trickles in too slowly gets 408, and the pending read rejects', async (t) => {
  let outcome: unknown = 'pending';
  const served = await serve(t, async (request) => {
    try {
      await request.datastream.text();
      outcome = 'resolved';
    } catch (error) {
      outcome = error;
    }
    return { statuscode: 200 };
  }, { headersTimeout: 200, requestTimeout: 400, onError: errorSink().onError });
  const started = performance.now();
  const { text, closed } = await rawRequest(served.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b', { idleMs: 4000 });
  const elapsed = performance.now() - started;
  assert.equal(closed, true);
  assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*Connection: close\r\n/);
  assert.ok(elapsed >= 350 && elapsed < 3000, `cut off after ${elapsed.toFixed(0)} ms`);
  await sleep(20);
  assert.ok(outcome instanceof Error, `the read ${String(outcome)}`);
});

test('the query option reaches qs for querydict and form()', async (t) => {
  const served = await serve(t, async (request) => ({
    statuscode: 200,
    message: JSON.stringify({ query: request.querydict, form: await request.datastream.form() }),
  }), { query: { delimiter: ';' } });
  const response = await fetch(`${served.url}/?a=1;b`, { method: 'POST', body: 'x=1;y=2' });
  assert.deepEqual(await response.json(), { query: { a: '1', b: null }, form: { x: '1', y: '2' } });
});
