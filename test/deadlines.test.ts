/**
 * The deadlines that cut slow clients, each tested with small values:
 * headers that trickle in (slowloris), a body that stops arriving, and a
 * client that stops reading its response. (The callback deadline is in
 * errors.test.ts, idle keep-alive and the whole-request deadline in
 * server.test.ts.)
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import tls from 'node:tls';
import { blockEventLoop, connectRaw, errorSink, makeCertificate, serve, sleep } from './support.js';

test('headersTimeout: a head trickling in one byte at a time is cut off with 408, though bytes keep coming', async (t) => {
  const { port } = await serve(t, () => ({ statuscode: 200 }), { headersTimeout: 400, requestTimeout: 5000 });
  const connection = await connectRaw(t, port);
  const head = `GET / HTTP/1.1\r\nHost: x\r\n${'X-Slow: y\r\n'.repeat(50)}\r\n`;
  const started = performance.now();
  for (let i = 0; i < head.length && !connection.closed && performance.now() - started < 4000; i += 1) {
    connection.socket.write(head[i]!);
    await sleep(20);
  }
  const elapsed = performance.now() - started;
  assert.equal(connection.closed, true);
  assert.ok(elapsed >= 350 && elapsed < 2500, `cut off after ${elapsed.toFixed(0)} ms`);
  assert.match(connection.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
});

test('bodyTimeout: a body that stops arriving gets 408 long before requestTimeout, and the read rejects', async (t) => {
  let outcome: unknown = 'pending';
  const { port } = await serve(t, async (request) => {
    try {
      outcome = await request.datastream.text();
    } catch (error) {
      outcome = error;
    }
    return { statuscode: 200, message: 'never sent' };
  }, { bodyTimeout: 300, requestTimeout: 60_000, onError: errorSink().onError });
  const connection = await connectRaw(t, port);
  connection.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b');
  const started = performance.now();
  assert.equal(await connection.waitClose(3000), true);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 250 && elapsed < 1500, `cut off after ${elapsed.toFixed(0)} ms`);
  assert.match(connection.text, /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*Connection: close\r\n/);
  assert.equal(connection.text.includes('never sent'), false);
  await sleep(20);
  assert.ok(outcome instanceof Error, `the read: ${String(outcome)}`);
});

test('bodyTimeout: a body trickling in a few bytes at a time is cut too, though bytes keep coming', async (t) => {
  const { port } = await serve(t, async (request) => ({
    statuscode: 200, message: `got ${(await request.datastream.text()).length}`,
  }), { bodyTimeout: 300, requestTimeout: 60_000, onError: errorSink().onError });
  const connection = await connectRaw(t, port);
  connection.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
  const started = performance.now();
  while (!connection.closed && performance.now() - started < 4000) {
    connection.socket.write('0123456789'); // 100 bytes a second
    await sleep(100);
  }
  const elapsed = performance.now() - started;
  assert.equal(connection.closed, true);
  assert.ok(elapsed >= 250 && elapsed < 2000, `cut off after ${elapsed.toFixed(0)} ms`);
  assert.match(connection.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
});

test('bodyTimeout: a body arriving at a steady pace is never cut, however long it takes', async (t) => {
  const { port } = await serve(t, async (request) => ({
    statuscode: 200, message: `got ${(await request.datastream.text()).length}`,
  }), { bodyTimeout: 300 });
  const connection = await connectRaw(t, port);
  const piece = Buffer.alloc(2048, 0x61); // 20 KiB a second: each piece earns 2 s
  connection.socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${15 * piece.length}\r\n\r\n`);
  for (let i = 0; i < 15; i += 1) {
    await sleep(100);
    connection.socket.write(piece);
  }
  assert.equal(await connection.waitFor(`got ${15 * piece.length}`, 2000), true, connection.text);
});

test('bodyTimeout: time the callback spends before reading is not the client\'s fault', async (t) => {
  const size = 1024 * 1024;
  const { port } = await serve(t, async (request) => {
    await sleep(800);
    return { statuscode: 200, message: `got ${(await request.datastream.read()).length}` };
  }, { bodyTimeout: 200 });
  const connection = await connectRaw(t, port);
  connection.socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
  connection.socket.write(Buffer.alloc(size, 0x61));
  assert.equal(await connection.waitFor(`got ${size}`, 3000), true, connection.text.slice(0, 200));
});

// Issue 11, defect 7: a server busy elsewhere (a callback blocking the event loop) counted against the client.
test('bodyTimeout: time the server\'s own event loop is blocked does not count against a steady upload', async (t) => {
  let reading!: () => void;
  const upload = new Promise<void>((resolve) => { reading = resolve; });
  const { port } = await serve(t, async (request) => {
    if (request.path === '/block') {
      // Another callback computes for longer than bodyTimeout without yielding.
      blockEventLoop(2500);
      return { statuscode: 200 };
    }
    let total = 0;
    for (let chunk = await request.datastream.read(200); chunk.length > 0; chunk = await request.datastream.read(200)) {
      total += chunk.length;
      // A few looks of the deadline check have seen this body arrive by now.
      if (total >= 600) reading();
    }
    return { statuscode: 200, message: `got ${total}` };
  }, { bodyTimeout: 1000 });
  // The uploader is another process, so that it keeps sending while this one is blocked: 200 bytes
  // every 100 ms, twice the floor of 1 KiB/s, 4000 bytes in all.
  const uploader = spawn(process.execPath, ['-e', `
    const socket = require('node:net').connect(${port}, '127.0.0.1');
    let reply = '';
    socket.on('data', (chunk) => { reply += chunk; });
    socket.on('close', () => { process.stdout.write(reply.split('\\r\\n')[0] + '|' + reply.slice(reply.indexOf('\\r\\n\\r\\n') + 4)); });
    socket.write('POST /up HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 4000\\r\\nConnection: close\\r\\n\\r\\n');
    let sent = 0;
    const timer = setInterval(() => { socket.write('x'.repeat(200)); sent += 200; if (sent >= 4000) clearInterval(timer); }, 100);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => uploader.kill());
  let output = '';
  uploader.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  await upload;
  await new Promise<void>((resolve) => http.get({ port, path: '/block' }, (res) => res.resume().on('end', resolve)));
  await once(uploader, 'exit');
  assert.equal(output, 'HTTP/1.1 200 OK|got 4000');
});

test('sendTimeout: a client that stops reading a large response is cut off; the body stream is released', async (t) => {
  let aborted = 0;
  let streamClosed = 0;
  const { port } = await serve(t, (request) => {
    let sent = 0;
    const body = new Readable({
      read() {
        sent += 1;
        this.push(sent > 4096 ? null : Buffer.alloc(64 * 1024, 0x62)); // 256 MiB in all, far beyond socket buffers
      },
    });
    body.once('close', () => { streamClosed = performance.now(); });
    request.signal.addEventListener('abort', () => { aborted = performance.now(); });
    return { statuscode: 200, message: body };
  }, { sendTimeout: 300 });
  const connection = await connectRaw(t, port);
  connection.socket.pause(); // read nothing
  connection.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
  const started = performance.now();
  while (streamClosed === 0 && performance.now() - started < 5000) await sleep(25);
  const elapsed = streamClosed - started;
  assert.ok(streamClosed > 0, 'the body stream was released');
  assert.ok(elapsed >= 250 && elapsed < 2500, `cut off after ${elapsed.toFixed(0)} ms`);
  assert.ok(aborted > 0, 'request.signal aborted');
  connection.socket.resume();
  assert.equal(await connection.waitClose(3000), true);
});

test('sendTimeout: a client that reads slowly but steadily gets the whole response', async (t) => {
  const size = 16 * 1024 * 1024;
  const { port } = await serve(t, () => ({ statuscode: 200, message: Buffer.alloc(size, 0x63) }), { sendTimeout: 1000 });
  const socket = net.connect(port, '127.0.0.1');
  t.after(() => { socket.destroy(); });
  await once(socket, 'connect');
  // 1 MiB every 100 ms: the whole response takes more than a second, with no stall as long as sendTimeout.
  let received = 0;
  let sip = 0;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    sip += chunk.length;
    if (sip >= 1024 * 1024) socket.pause();
  });
  const pace = setInterval(() => { sip = 0; socket.resume(); }, 100);
  t.after(() => clearInterval(pace));
  const started = performance.now();
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await once(socket, 'close');
  clearInterval(pace);
  assert.ok(received > size, `received ${received} of more than ${size} bytes`);
  assert.ok(performance.now() - started > 1000, 'the reading was slower than sendTimeout');
});

test('sendTimeout over HTTPS: a client that stops reading is cut off too, and the server keeps serving', async (t) => {
  const { cert, key } = makeCertificate();
  let streamClosed = 0;
  const { port } = await serve(t, () => {
    let sent = 0;
    const body = new Readable({
      read() {
        sent += 1;
        this.push(sent > 4096 ? null : Buffer.alloc(64 * 1024, 0x62));
      },
    });
    body.once('close', () => { streamClosed = performance.now(); });
    return { statuscode: 200, message: body };
  }, { tls: { cert, key }, sendTimeout: 300 });
  const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  t.after(() => { socket.destroy(); });
  socket.on('error', () => {});
  await once(socket, 'secureConnect');
  socket.pause();
  socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
  const started = performance.now();
  while (streamClosed === 0 && performance.now() - started < 5000) await sleep(25);
  assert.ok(streamClosed > 0, 'the body stream was released');
  assert.ok(streamClosed - started < 2500, `cut off after ${(streamClosed - started).toFixed(0)} ms`);
  const response = await fetchInsecure(port);
  assert.equal(response, 200);
});

function fetchInsecure(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    https.get({ port, host: '127.0.0.1', path: '/', rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject);
  });
}
