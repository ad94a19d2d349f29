import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { answerClientError, closeIdle, isClosing, markClosing } from '../lib/connection.js';
import { errorSink, rawRequest, serve, sleep } from './support.js';

test('markClosing and isClosing track connections by identity', () => {
  const a = {};
  const b = {};
  markClosing(a);
  assert.equal(isClosing(a), true);
  assert.equal(isClosing(b), false);
});

/** A connected pair of sockets on loopback: the server side to act on, the client side to observe. */
async function socketPair(t: import('node:test').TestContext): Promise<{ server: net.Socket; client: net.Socket; received: () => string; closed: Promise<void> }> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  const server = await accepted;
  listener.close();
  t.after(() => { client.destroy(); server.destroy(); });
  let text = '';
  client.on('data', (chunk) => { text += chunk; });
  client.on('error', () => {});
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  return { server, client, received: () => text, closed };
}

const idle = { inFlight: 0, message: undefined, response: undefined };
const parsed = (complete: boolean) => ({ complete }) as IncomingMessage;

test('answerClientError on an idle connection answers like Node: 400, 431, 413, 408, then closes', async (t) => {
  const cases = [
    ['HPE_INVALID_METHOD', '400 Bad Request'], ['HPE_HEADER_OVERFLOW', '431 Request Header Fields Too Large'],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', '413 Payload Too Large'], ['ERR_HTTP_REQUEST_TIMEOUT', '408 Request Timeout'],
  ] as const;
  for (const [code, status] of cases) {
    const pair = await socketPair(t);
    answerClientError(Object.assign(new Error('x'), { code }), pair.server, idle);
    await pair.closed;
    assert.equal(pair.received(), `HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    assert.equal(isClosing(pair.server), true);
  }
});

test('answerClientError behind a complete request under way writes nothing and leaves the socket open', async (t) => {
  const pair = await socketPair(t);
  answerClientError(Object.assign(new Error('x'), { code: 'HPE_INVALID_METHOD' }), pair.server,
    { inFlight: 1, message: parsed(true), response: undefined });
  await sleep(50);
  assert.equal(pair.received(), '');
  assert.equal(pair.server.destroyed, false);
  assert.equal(isClosing(pair.server), true);
});

test('answerClientError inside an incomplete request whose response cannot be corrected destroys the connection', async (t) => {
  const pair = await socketPair(t);
  answerClientError(Object.assign(new Error('x'), { code: 'HPE_INVALID_EOF_STATE' }), pair.server,
    { inFlight: 1, message: parsed(false), response: undefined });
  await pair.closed;
  assert.equal(pair.received(), '');
});

test('closeIdle flushes what is queued before closing', async (t) => {
  const pair = await socketPair(t);
  pair.server.write('last words');
  closeIdle(pair.server);
  await pair.closed;
  assert.equal(pair.received(), 'last words');
});

test('maxConnections: a connection over the limit is answered 503 and closed', async (t) => {
  const served = await serve(t, () => ({ statuscode: 200, message: 'in' }), { maxConnections: 2 });
  const held = [net.connect(served.port, '127.0.0.1'), net.connect(served.port, '127.0.0.1')];
  t.after(() => held.forEach((socket) => socket.destroy()));
  await Promise.all(held.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
  // The server counts a connection when it accepts it, a moment after the client sees it open:
  // on a loaded machine that moment varies, so the checks retry (bounded) instead of sleeping a guess.
  const refused = await untilMatches(served.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.equal(refused.closed, true);
  held[0]!.destroy();
  const admitted = await untilMatches(served.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(admitted.text, /\r\n\r\nin$/);
});

/** Sends `request` on fresh connections until an answer matches `pattern`; fails after 5 s. */
async function untilMatches(port: number, request: string, pattern: RegExp) {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const answer = await rawRequest(port, request, { idleMs: 300 });
    if (pattern.test(answer.text) || Date.now() > deadline) {
      assert.match(answer.text, pattern);
      return answer;
    }
    await sleep(20);
  }
}

test('maxConnectionsPerPeer limits one address without touching the total', async (t) => {
  const served = await serve(t, () => ({ statuscode: 200, message: 'in' }), { maxConnectionsPerPeer: 1 });
  const held = net.connect(served.port, '127.0.0.1');
  t.after(() => held.destroy());
  await new Promise((resolve) => held.once('connect', resolve));
  await untilMatches(served.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 503 /);
});

test('bad bytes after a complete request do not interrupt its response (1.0 body written to the socket)', async (t) => {
  const { errors, onError } = errorSink();
  let calls = 0;
  const served = await serve(t, () => {
    calls++;
    return {
      statuscode: 200,
      message: (async function* () {
        for (let i = 0; i < 4; i++) { yield `part ${i}\n`; await sleep(30); }
      })(),
    };
  }, { onError });
  const socket = net.connect(served.port, '127.0.0.1');
  t.after(() => socket.destroy());
  let text = '';
  socket.on('data', (chunk) => { text += chunk.toString('latin1'); });
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.write('GET / HTTP/1.0\r\n\r\n');
  await sleep(40);
  socket.write('BOGUS\x01\r\n\r\n');
  await closed;
  assert.match(text, /^HTTP\/1\.0 200 OK\r\n/);
  assert.ok(text.endsWith('\r\n\r\npart 0\npart 1\npart 2\npart 3\n'), text);
  assert.doesNotMatch(text, /400 Bad Request/);
  assert.equal(calls, 1);
  assert.deepEqual(errors, []);
});

test('bad bytes behind a pending keep-alive response: the response is sent, then the connection closes', async (t) => {
  let calls = 0;
  const served = await serve(t, async () => {
    calls++;
    await sleep(100);
    return { statuscode: 200, message: 'first' };
  });
  const started = performance.now();
  const { text, closed } = await rawRequest(served.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n\x01\x02 garbage\r\n\r\n', { idleMs: 3000 });
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nfirst$/);
  assert.equal(closed, true);
  assert.ok(performance.now() - started < 2000);
  assert.equal(calls, 1);
});

test('bad bytes on an idle connection get Node\'s 400 and a close', async (t) => {
  const served = await serve(t, () => ({ statuscode: 200 }));
  const { text, closed } = await rawRequest(served.port, 'NOT HTTP AT ALL\x01\r\n\r\n', { idleMs: 2000 });
  assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*Connection: close\r\n\r\n$/);
  assert.equal(closed, true);
});
