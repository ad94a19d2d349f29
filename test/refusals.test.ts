/**
 * Refusals over a connection limit, paced per address (issue 11, defect 3:
 * one address reconnecting past `maxConnectionsPerPeer` kept the accept loop
 * busy with refusals, and other addresses were locked out).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { REFUSAL_BURST, REFUSAL_HOLD_MS } from '../lib/refusals.js';
import { rawRequest, serve } from './support.js';

const REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

/** One request on a fresh connection from `localAddress`; resolves with what came back once the server closes. */
function askOnce(
  port: number, localAddress: string, request = `GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, open?: Set<net.Socket>,
): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    open?.add(socket);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => { text += chunk; });
    socket.on('error', () => {});
    socket.on('close', () => { open?.delete(socket); resolve(text); });
    socket.write(request);
  });
}

/** Opens a keep-alive connection that the server has answered once (so it is admitted and counted). */
async function admitted(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('data', () => resolve());
    socket.once('error', reject);
    socket.write(REQUEST);
  });
  return socket;
}

test('a client reconnecting at once past maxConnectionsPerPeer is paced, and another address is served meanwhile', async (t) => {
  const served = await serve(t, () => ({ statuscode: 200, message: 'in' }), { maxConnectionsPerPeer: 2 });
  const held = [await admitted(served.port), await admitted(served.port)];
  t.after(() => held.forEach((socket) => socket.destroy()));

  // 40 clients from 127.0.0.1 that reconnect as soon as they are refused, for 1.5 s (bounded); what is
  // still held then is let go.
  const churners = 40;
  const runFor = 1500;
  const started = performance.now();
  const open = new Set<net.Socket>();
  let refusals = 0;
  let otherAnswers = 0;
  const churn = async () => {
    while (performance.now() - started < runFor) {
      const text = await askOnce(served.port, '127.0.0.1', REQUEST, open);
      if (text.startsWith('HTTP/1.1 503 ')) refusals += 1;
      else if (text !== '') otherAnswers += 1;
    }
  };
  const loops = Array.from({ length: churners }, churn);
  // Meanwhile another address is admitted and answered.
  const probe = await askOnce(served.port, '127.0.0.2');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, runFor - (performance.now() - started))));
  for (const socket of open) socket.destroy();
  await Promise.all(loops);

  assert.match(probe, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nin$/);
  assert.ok(refusals > 0, 'the clients over the limit were refused with 503');
  assert.equal(otherAnswers, 0, 'every answer to them is a 503');
  // Each address gets its burst at once in each one-second window; after it, a refused connection
  // waits at least half a hold before its answer, longer than this run.
  const windows = Math.ceil(runFor / 1000) + 1;
  const holdsOver = Math.floor(runFor / (REFUSAL_HOLD_MS / 2));
  const most = REFUSAL_BURST * windows + churners * holdsOver;
  assert.ok(refusals <= most, `${refusals} refusals in ${runFor} ms; paced, there are at most ${most}`);
});

test('past the burst, a refusal is held at least half a hold before its 503', async (t) => {
  const served = await serve(t, () => ({ statuscode: 200, message: 'in' }), { maxConnectionsPerPeer: 1 });
  const held = await admitted(served.port);
  t.after(() => held.destroy());
  for (let i = 0; i < REFUSAL_BURST; i += 1) assert.match(await askOnce(served.port, '127.0.0.1', REQUEST), /^HTTP\/1\.1 503 /);
  const started = performance.now();
  const answer = await askOnce(served.port, '127.0.0.1', REQUEST);
  const waited = performance.now() - started;
  assert.match(answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.ok(waited >= REFUSAL_HOLD_MS / 2 - 50, `answered after ${waited.toFixed(0)} ms`);
});

test('the first refusals of an address are answered at once, with Retry-After', async (t) => {
  const served = await serve(t, () => ({ statuscode: 200, message: 'in' }), { maxConnectionsPerPeer: 1 });
  const held = await admitted(served.port);
  t.after(() => held.destroy());
  const { text, closed } = await rawRequest(served.port, REQUEST, { idleMs: REFUSAL_HOLD_MS / 2 });
  assert.equal(closed, true, 'answered before a hold could have passed');
  assert.match(text, /^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*Retry-After: 1\r\n/);
});

test('stopCallback ends held refusals at once instead of waiting out their hold', async (t) => {
  const served = await serve(t, () => ({ statuscode: 200, message: 'in' }), { maxConnectionsPerPeer: 1 });
  const held = await admitted(served.port);
  t.after(() => held.destroy());
  // Use up the burst, then one more refusal is held.
  for (let i = 0; i < REFUSAL_BURST; i += 1) assert.match(await askOnce(served.port, '127.0.0.1', REQUEST), /^HTTP\/1\.1 503 /);
  const socket = net.connect(served.port, '127.0.0.1');
  socket.on('error', () => {});
  let received = '';
  socket.on('data', (chunk) => { received += chunk; });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(REQUEST);
  // The server accepts in order: once a later connection is answered, this one has been accepted (and held).
  assert.match(await askOnce(served.port, '127.0.0.2'), /^HTTP\/1\.1 200 /);
  held.destroy();
  await served.stop();
  await closed;
  assert.equal(received, '', 'the held refusal was cut, not answered after its hold');
});
