/**
 * The first chunk of a connection, looked at before Node's parser: plain
 * HTTP sent to an HTTPS port, a silent TLS client, and the head deadline
 * after the server's own event loop was blocked. (HTTP/0.9 lines are in
 * hostile.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { test } from 'node:test';
import { blockEventLoop, connectRaw, makeCertificate, serve } from './support.js';

test('plain HTTP sent to an HTTPS port gets a plain-text 400 saying so, and HTTPS keeps working', async (t) => {
  let called = 0;
  const { port } = await serve(t, () => { called += 1; return { statuscode: 200, message: 'secure' }; }, { tls: makeCertificate() });
  const connection = await connectRaw(t, port);
  connection.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  assert.equal(await connection.waitClose(5000), true);
  assert.match(connection.text, /^HTTP\/1\.1 400 Bad Request\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
  assert.match(connection.text, /\r\n\r\nThis port speaks HTTPS: use an https:\/\/ URL/);
  assert.equal(called, 0);
  const body = await new Promise<string>((resolve, reject) => {
    https.get({ port, host: '127.0.0.1', path: '/', rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; }).on('end', () => resolve(text));
    }).on('error', reject);
  });
  assert.equal(body, 'secure');
  assert.equal(called, 1);
});

test('a TLS port closes a connection that sends nothing after headersTimeout, with no HTTP bytes', async (t) => {
  const { port } = await serve(t, () => ({ statuscode: 200 }), { tls: makeCertificate(), headersTimeout: 300, requestTimeout: 1000 });
  const connection = await connectRaw(t, port);
  assert.equal(await connection.waitClose(5000), true);
  assert.equal(connection.text, '');
});

// Issue 11, defect 7 (the head's share): a deadline timer that fires after a block ran before the bytes that came meanwhile.
test('a request head that arrived while the event loop was blocked past headersTimeout is served, not 408', async (t) => {
  const { port } = await serve(t, (request) => {
    if (request.path === '/block') {
      blockEventLoop(2500);
    }
    return { statuscode: 200, message: `done ${request.path}` };
  }, { headersTimeout: 2000, requestTimeout: 5000 });
  // Another process opens a connection and leaves it silent; a second connection, answered, shows the
  // server has accepted the first (it accepts in order). 300 ms after saying so, it sends its request
  // on the first connection, while this process is blocked.
  const client = spawn(process.execPath, ['-e', `
    const net = require('node:net');
    const quiet = net.connect(${port}, '127.0.0.1');
    let reply = '';
    quiet.on('data', (chunk) => { reply += chunk; });
    quiet.on('close', () => process.stdout.write('reply:' + reply.split('\\r\\n')[0] + '|' + reply.slice(reply.indexOf('\\r\\n\\r\\n') + 4)));
    quiet.on('connect', () => {
      const probe = net.connect(${port}, '127.0.0.1');
      probe.on('data', () => {
        probe.destroy();
        process.stdout.write('ready\\n');
        setTimeout(() => quiet.write('GET /late HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'), 300);
      });
      probe.write('GET /probe HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n');
    });
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => client.kill());
  let output = '';
  const ready = new Promise<void>((resolve) => {
    client.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('ready\n')) resolve();
    });
  });
  await ready;
  await new Promise<void>((resolve) => http.get({ port, path: '/block' }, (res) => res.resume().on('end', resolve)));
  await once(client, 'exit');
  assert.equal(output.slice(output.indexOf('reply:')), 'reply:HTTP/1.1 200 OK|done /late');
});
