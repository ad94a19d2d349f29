/**
 * Stopping under load. registry.test.ts covers one request in flight, one
 * idle keep-alive client, `timeout: 0`, one stuck request and a hundred
 * plain start-request-stop cycles; here the same promises are held with
 * hundreds of connections at once, a mix of busy, idle and half-sent ones,
 * and a hundred listeners each holding a keep-alive connection when stopped.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, afterEach, beforeEach, test } from 'node:test';
import { getAddress, listCallbacks, registerCallback, stopAllCallbacks, stopCallback } from '../lib/index.js';
import type { Callback, HttpRequest } from '../lib/index.js';
import { errorSink, parseRaw, sleep } from './support.js';

// No uncaught exception or unhandled rejection, during a test or between tests.

const strays: string[] = [];
const lateStrays: string[] = [];
const onStray = (kind: string) => (value: unknown) => {
  let shown: string;
  try { shown = value instanceof Error ? String(value.stack) : String(value); } catch { shown = 'a value that cannot be shown'; }
  strays.push(`${kind}: ${shown}`);
};
const onUncaught = onStray('uncaughtException');
const onUnhandled = onStray('unhandledRejection');
process.on('uncaughtException', onUncaught);
process.on('unhandledRejection', onUnhandled);
beforeEach(() => { lateStrays.push(...strays.splice(0)); });
afterEach(async () => {
  await sleep(20);
  assert.deepEqual(strays.splice(0), [], 'the process saw an uncaught exception or an unhandled rejection');
});
after(async () => {
  await sleep(50);
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual([...lateStrays, ...strays], [], 'the process saw an uncaught exception or an unhandled rejection between tests');
});

// Building blocks.

const TRACKED = ['TCPServerWrap', 'TCPSocketWrap', 'Timeout'] as const;
type HandleCounts = Record<(typeof TRACKED)[number], number>;

/** How many listening sockets, connections and (ref'ed) timers keep the process alive. */
function handleCounts(): HandleCounts {
  const counts: HandleCounts = { TCPServerWrap: 0, TCPSocketWrap: 0, Timeout: 0 };
  for (const name of process.getActiveResourcesInfo()) {
    if ((TRACKED as readonly string[]).includes(name)) counts[name as keyof HandleCounts] += 1;
  }
  return counts;
}

/** Waits (up to 1 s) for the handle counts to come back down to `before`, then asserts they did. */
async function assertNoHandlesLeft(before: HandleCounts): Promise<void> {
  const settled = () => TRACKED.every((name) => handleCounts()[name] <= before[name]);
  for (let i = 0; i < 100 && !settled(); i++) await sleep(10);
  const now = handleCounts();
  for (const name of TRACKED) {
    assert.ok(now[name] <= before[name],
      `${name}: ${before[name]} before, ${now[name]} after: ${process.getActiveResourcesInfo().join(', ')}`);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => { resolve = settle; });
  return { promise, resolve };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); }),
  ]);
}

interface Client {
  socket: net.Socket;
  /** Everything received, latin1. */
  text(): string;
  /** Resolves once the connection is closed (by either side), with the time it closed. */
  closed: Promise<number>;
}

/** A raw client connection; `closed` resolves when the server closes it. */
function openClient(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const closed = new Promise<number>((settle) => socket.once('close', () => settle(performance.now())));
    socket.on('data', (chunk: Buffer) => { chunks.push(chunk); });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => { /* a reset is a close */ });
      resolve({ socket, text: () => Buffer.concat(chunks).toString('latin1'), closed });
    });
    socket.once('error', reject);
  });
}

/** Resolves with the error code of a connection attempt that should fail, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve('connected'); });
    socket.once('error', (error: NodeJS.ErrnoException) => { socket.destroy(); resolve(error.code ?? String(error)); });
  });
}

/** Registers on 127.0.0.1 port 0 and makes sure the listener is gone when the test ends, whatever happened. */
async function start(t: { after: (fn: () => Promise<void>) => void }, callback: Callback, options: Parameters<typeof registerCallback>[2] = {}) {
  const id = await registerCallback(['127.0.0.1', 0], callback, options);
  t.after(async () => { if (listCallbacks().includes(id)) await stopCallback(id, { timeout: 0 }); });
  return { id, port: getAddress(id).port };
}

// 1. Hundreds of requests in flight.

test('stopCallback with 300 keep-alive connections in flight: every request finishes 200 with Connection: close, new connections are refused, stop resolves after the last answer and leaves no handle', async (t) => {
  const CONNECTIONS = 300;
  const before = handleCounts();
  const { onError, errors } = errorSink();
  const allIn = deferred();
  // Every callback is still working when stop begins, however slowly the 300 connections opened.
  const stopBegun = deferred();
  let entered = 0;
  let aborted = 0;
  let answered = 0;
  const { id, port } = await start(t, async (request: HttpRequest) => {
    entered += 1;
    if (entered === CONNECTIONS) allIn.resolve();
    await stopBegun.promise;
    await sleep(100);
    if (request.signal.aborted) aborted += 1;
    answered += 1;
    return { statuscode: 200, message: `done ${request.path}` };
  }, { maxConnectionsPerPeer: 0, onError });

  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => openClient(port)));
  t.after(() => { for (const client of clients) client.socket.destroy(); });
  // HTTP/1.1 without Connection: close is a keep-alive request.
  clients.forEach((client, i) => client.socket.write(`GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`));
  await withTimeout(allIn.promise, 5000, `all ${CONNECTIONS} callbacks entered (${entered} did)`);

  const stopStarted = performance.now();
  let stopResolvedAt = 0;
  let answeredWhenStopped = -1;
  const stopping = stopCallback(id, { timeout: 5000 }).then(() => {
    stopResolvedAt = performance.now();
    answeredWhenStopped = answered;
  });
  stopBegun.resolve();
  assert.deepEqual(listCallbacks().filter((listed) => listed === id), [], 'the id is removed at once');

  // While the requests are still in flight, the port takes no new connection.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(await tryConnect(port), 'ECONNREFUSED', 'a connection attempt while stopping was accepted');

  // The contract is "within its timeout" (5 s); on a quiet machine this takes about 0.6 s.
  await withTimeout(stopping, 4800, 'stopCallback');
  const elapsed = stopResolvedAt - stopStarted;
  assert.ok(elapsed < 4500, `stop took ${elapsed.toFixed(0)} ms`);
  assert.equal(answeredWhenStopped, CONNECTIONS, 'stop resolved before the last callback answered');

  const closedAt = await withTimeout(Promise.all(clients.map((client) => client.closed)), 2000, 'every client connection closed');
  clients.forEach((client, i) => {
    const reply = parseRaw(client.text());
    assert.equal(reply.statusLine, 'HTTP/1.1 200 OK', `connection ${i}: ${client.text()}`);
    assert.equal(reply.headers.connection, 'close', `connection ${i} was not told the connection closes`);
    assert.equal(reply.body, `done /${i}`);
    assert.equal(reply.headers['content-length'], String(`done /${i}`.length));
  });
  assert.ok(Math.max(...closedAt) - stopStarted < 4800, 'every connection closed within the stop timeout');
  assert.equal(aborted, CONNECTIONS, 'request.signal did not tell every callback that the listener is stopping');
  assert.equal(entered, CONNECTIONS);
  assert.deepEqual(errors, []);

  // After stop: still refused, and nothing keeps the process alive.
  assert.equal(await tryConnect(port), 'ECONNREFUSED');
  await assertNoHandlesLeft(before);
});

// 2. Requests that never finish, next to idle and half-sent connections.

test('stopCallback({ timeout: 300 }) with never-settling callbacks: idle and half-sent connections close at once, stuck ones are cut at the timeout, and no handle is left', async (t) => {
  const STUCK = 60;
  const IDLE = 20;
  const HALF = 10;
  const before = handleCounts();
  const { onError, errors } = errorSink();
  const allStuck = deferred();
  let stuck = 0;
  const signals: AbortSignal[] = [];
  const { id, port } = await start(t, (request) => {
    if (request.path === '/quick') return { statuscode: 200, message: 'quick' };
    signals.push(request.signal);
    stuck += 1;
    if (stuck === STUCK) allStuck.resolve();
    return new Promise(() => {}); // never settles
  }, { maxConnectionsPerPeer: 0, onError });

  const busy = await Promise.all(Array.from({ length: STUCK }, () => openClient(port)));
  const idle = await Promise.all(Array.from({ length: IDLE }, () => openClient(port)));
  const half = await Promise.all(Array.from({ length: HALF }, () => openClient(port)));
  t.after(() => { for (const client of [...busy, ...idle, ...half]) client.socket.destroy(); });

  for (const client of busy) client.socket.write('GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n');
  for (const client of idle) client.socket.write('GET /quick HTTP/1.1\r\nHost: x\r\n\r\n');
  for (const client of half) client.socket.write('GET /half HTTP/1.1\r\nHost: x\r\nX-Not-Done: ');
  await withTimeout(allStuck.promise, 5000, `all ${STUCK} callbacks entered (${stuck} did)`);
  for (let i = 0; i < 100 && !idle.every((client) => client.text().endsWith('quick')); i++) await sleep(10);
  for (const client of idle) assert.match(client.text(), /^HTTP\/1\.1 200 OK\r\n[^]*keep-alive[^]*\r\n\r\nquick$/i);

  const stopStarted = performance.now();
  await withTimeout(stopCallback(id, { timeout: 300 }), 3000, 'stopCallback');
  const elapsed = performance.now() - stopStarted;
  assert.ok(elapsed >= 250, `stop resolved after ${elapsed.toFixed(0)} ms, before the timeout`);
  assert.ok(elapsed < 700, `stop took ${elapsed.toFixed(0)} ms for a 300 ms timeout`);

  const closeTimes = async (clients: Client[]) =>
    (await withTimeout(Promise.all(clients.map((client) => client.closed)), 1000, 'clients closed')).map((at) => at - stopStarted);
  const idleClosed = await closeTimes(idle);
  const halfClosed = await closeTimes(half);
  const busyClosed = await closeTimes(busy);
  assert.ok(Math.max(...idleClosed) < 200, `idle connections closed after ${Math.max(...idleClosed).toFixed(0)} ms`);
  assert.ok(Math.max(...halfClosed) < 200, `half-sent connections closed after ${Math.max(...halfClosed).toFixed(0)} ms`);
  assert.ok(Math.min(...busyClosed) >= 250, `a stuck connection was cut after ${Math.min(...busyClosed).toFixed(0)} ms, before the timeout`);
  assert.ok(Math.max(...busyClosed) < 700, `a stuck connection was cut only after ${Math.max(...busyClosed).toFixed(0)} ms`);

  // The stuck requests got no bytes at all (no half response), and their callbacks were told.
  for (const client of busy) assert.equal(client.text(), '');
  for (const client of half) assert.equal(client.text(), '');
  for (const client of idle) assert.ok(client.text().endsWith('quick'), 'an idle connection got more than its one answer');
  assert.equal(signals.length, STUCK);
  assert.ok(signals.every((signal) => signal.aborted));
  assert.deepEqual(errors, []);

  assert.equal(await tryConnect(port), 'ECONNREFUSED');
  await assertNoHandlesLeft(before);
});

// 3. A test suite's rhythm: start, use with a keep-alive client, stop; a hundred times.

test('a hundred listeners started and stopped back to back, each holding a keep-alive connection when stopped, stop quickly and leave no handle', async () => {
  const before = handleCounts();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const ids: number[] = [];
  const stopTimes: number[] = [];
  const started = performance.now();
  try {
    for (let i = 0; i < 100; i++) {
      const id = await registerCallback(['127.0.0.1', 0], (request) => ({ statuscode: 200, message: `${request.httpdid}${request.path}` }));
      ids.push(id);
      const { port } = getAddress(id);
      let socket!: net.Socket;
      const body = await new Promise<string>((resolve, reject) => {
        const request = http.get({ host: '127.0.0.1', port, path: `/${i}`, agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => { text += chunk; });
          res.on('end', () => resolve(text));
        });
        request.once('socket', (assigned: net.Socket) => { socket = assigned; });
        request.on('error', reject);
      });
      assert.equal(body, `${id}/${i}`);
      const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      // The agent keeps the connection: it sits idle in the pool, open, when the listener stops.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(socket.destroyed, false, `cycle ${i}: the keep-alive connection was already closed`);

      const stopStarted = performance.now();
      await withTimeout(stopCallback(id), 2000, `cycle ${i}: stopCallback`); // default timeout 5000: idle ones must not wait for it
      stopTimes.push(performance.now() - stopStarted);
      await withTimeout(socketClosed, 1000, `cycle ${i}: the idle keep-alive connection closed`);
      assert.equal(await tryConnect(port), 'ECONNREFUSED', `cycle ${i}: the port still accepts connections`);
    }
  } finally {
    agent.destroy();
    await Promise.all(ids.filter((id) => listCallbacks().includes(id)).map((id) => stopCallback(id, { timeout: 0 })));
  }
  const total = performance.now() - started;
  assert.ok(total < 20_000, `100 cycles took ${total.toFixed(0)} ms`);
  assert.ok(Math.max(...stopTimes) < 500, `the slowest stop took ${Math.max(...stopTimes).toFixed(0)} ms`);
  assert.deepEqual(listCallbacks().filter((id) => ids.includes(id)), []);
  await assertNoHandlesLeft(before);
});

// 4. Many listeners stopped at once.

test('stopAllCallbacks with 100 running listeners, half with a request in flight and all with an idle connection, finishes every request and leaves no handle', async (t) => {
  const LISTENERS = 100;
  const before = handleCounts();
  const { onError, errors } = errorSink();
  let slowAnswered = 0;
  const callback: Callback = async (request) => {
    if (request.path === '/slow') {
      await sleep(200);
      slowAnswered += 1;
    }
    return { statuscode: 200, message: request.path };
  };
  const servers = await Promise.all(Array.from({ length: LISTENERS }, () => start(t, callback, { onError })));
  const idle = await Promise.all(servers.map(({ port }) => openClient(port)));
  const slow = await Promise.all(servers.filter((_, i) => i % 2 === 0).map(({ port }) => openClient(port)));
  t.after(() => { for (const client of [...idle, ...slow]) client.socket.destroy(); });

  for (const client of idle) client.socket.write('GET /idle HTTP/1.1\r\nHost: x\r\n\r\n');
  for (let i = 0; i < 100 && !idle.every((client) => client.text().endsWith('/idle')); i++) await sleep(10);
  assert.ok(idle.every((client) => client.text().endsWith('\r\n\r\n/idle')), 'an idle client never got its answer');
  for (const client of slow) client.socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  await sleep(50); // the slow requests are now in their callbacks

  const stopStarted = performance.now();
  await withTimeout(stopAllCallbacks({ timeout: 5000 }), 4000, 'stopAllCallbacks');
  const elapsed = performance.now() - stopStarted;
  assert.equal(slowAnswered, slow.length, 'stopAllCallbacks resolved before every request in flight was answered');
  assert.ok(elapsed < 2000, `stopping ${LISTENERS} listeners took ${elapsed.toFixed(0)} ms`);
  assert.deepEqual(listCallbacks().filter((id) => servers.some((server) => server.id === id)), []);

  await withTimeout(Promise.all([...idle, ...slow].map((client) => client.closed)), 1000, 'every client connection closed');
  for (const client of slow) {
    const reply = parseRaw(client.text());
    assert.equal(reply.statusLine, 'HTTP/1.1 200 OK', client.text());
    assert.equal(reply.headers.connection, 'close');
    assert.equal(reply.body, '/slow');
  }
  assert.deepEqual(errors, []);
  for (const { port } of servers.slice(0, 5)) assert.equal(await tryConnect(port), 'ECONNREFUSED');
  await assertNoHandlesLeft(before);
});
