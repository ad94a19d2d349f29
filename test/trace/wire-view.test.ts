/**
 * The `trace` option's wire view: the bytes each connection carried, as a
 * transcript, for every path that writes to a socket (Node's responses, the
 * 1.0/0.9 writer, refusals before and after Node's parser) and over TLS.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { test } from 'node:test';
import { connectRaw, makeCertificate, parseRaw, rawRequest } from '../support.js';
import { ADA_REQUEST, ADA_TRANSCRIPT, hello, normalize, serveTraced, wireLines } from './support.js';


test('a whole exchange: request bytes, then the dictionaries, then response bytes, then the close', async (t) => {
  const served = await serveTraced(t, hello, { wire: true });
  await rawRequest(served.port, ADA_REQUEST);
  assert.ok(await served.waitFor('── connection 1 closed'));
  assert.equal(normalize(served.output), ADA_TRANSCRIPT);
});

test('a body that comes after its head, behind 100 Continue, shows where it came', async (t) => {
  const served = await serveTraced(t, async (request) => ({ statuscode: 200, message: `got ${await request.datastream.text()}` }), { wire: true });
  const client = await connectRaw(t, served.port);
  client.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  assert.ok(await client.waitFor('100 Continue'));
  client.socket.write('hello');
  assert.ok(await client.waitFor('got hello'));
  assert.ok(await served.waitFor('< got hello'));
  const output = normalize(served.output);
  const order = ['> \\r\\n\n── request 1', 'datastream: <body: 5 bytes, not read yet>', '< HTTP/1.1 100 Continue\\r\\n\n< \\r\\n\n',
    '> hello\n── response 1', "message: 'got hello'", '< HTTP/1.1 200 OK'];
  let at = 0;
  for (const part of order) {
    const found = output.indexOf(part, at);
    assert.ok(found >= at, `${JSON.stringify(part)} in order in:\n${output}`);
    at = found;
  }
});

test('a streamed response shows its chunk sizes and the last chunk as sent', async (t) => {
  const served = await serveTraced(t, () => ({
    statuscode: 200, message: (async function* () { yield 'a'; yield 'bb'; })(),
  }), { wire: true });
  const { text } = await rawRequest(served.port, 'GET /s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(text, /Transfer-Encoding: chunked/);
  assert.ok(await served.waitFor('── connection 1 closed'));
  const sent = wireLines(served.output, '<');
  assert.deepEqual(sent.slice(sent.indexOf('\\r\\n') + 1), ['1\\r\\n', 'a\\r\\n', '2\\r\\n', 'bb\\r\\n', '0\\r\\n', '\\r\\n']);
  assert.match(served.output, /\n {2}message: <async iterable>\n/);
});

test('HTTP/1.0 and HTTP/0.9 answers, written to the socket directly, show too', async (t) => {
  const served = await serveTraced(t, hello, { wire: true }, { http09: true });
  await rawRequest(served.port, 'GET /old?name=Bo HTTP/1.0\r\n\r\n');
  assert.ok(await served.waitFor('── connection 1 closed'));
  assert.deepEqual(wireLines(normalize(served.output), '<'), [
    'HTTP/1.0 200 OK\\r\\n', 'Content-Type: text/plain; charset=utf-8\\r\\n', 'Content-Length: 11\\r\\n',
    'Date: DATE\\r\\n', 'Connection: close\\r\\n', '\\r\\n', 'Hello, Bo!\\n',
  ]);

  await rawRequest(served.port, 'GET /?name=Cy\r\n');
  assert.ok(await served.waitFor('── connection 2 closed'));
  const second = served.output.slice(served.output.indexOf('── connection 2'));
  // The request line is shown once, as sent: not the CR LF first-bytes.ts adds to complete it for the parser.
  assert.deepEqual(wireLines(second, '>'), ['GET /?name=Cy\\r\\n']);
  assert.deepEqual(wireLines(second, '<'), ['Hello, Cy!\\n']);
  assert.match(second, /version: '0\.9'/);
});

test('refusals show in the wire view, before and after Node\'s parser, and no dictionary is printed', async (t) => {
  const served = await serveTraced(t, hello, { wire: true }, { maxConnections: 1 });
  const cases: Array<[string, string]> = [
    ['GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 'HTTP/1.1 400 Bad Request\\r\\n'],
    ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'HTTP/1.1 505 HTTP Version Not Supported\\r\\n'],
    ['GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 'HTTP/1.1 400 Bad Request\\r\\n'],
  ];
  for (const [index, [bytes, status]] of cases.entries()) {
    const { text } = await rawRequest(served.port, bytes);
    assert.equal(`${parseRaw(text).statusLine}\\r\\n`, status);
    assert.ok(await served.waitFor(`── connection ${index + 1} closed`));
    const shown = served.output.slice(served.output.indexOf(`── connection ${index + 1} ──`));
    assert.equal(wireLines(shown, '>').join(''), bytes.replaceAll('\r\n', '\\r\\n'), 'every byte that came in, once');
    assert.equal(wireLines(shown, '<')[0], status);
  }
  // Over the connection limit: refused before anything is parsed.
  const holder = await connectRaw(t, served.port);
  holder.socket.write('GET / HTTP/1.1\r\n');
  assert.ok(await served.waitFor('── connection 4'), 'the connection holding the only place is admitted');
  const { text } = await rawRequest(served.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(text, /^HTTP\/1\.1 503 /);
  assert.ok(await served.waitFor('< HTTP/1.1 503 Service Unavailable\\r\\n'));
  holder.socket.destroy();
  assert.doesNotMatch(served.output, /── request/);
});

test('non-printable bytes, backslashes and UTF-8 are escaped; lines split at LF only', async (t) => {
  const served = await serveTraced(t, async (request) => ({
    statuscode: 200, message: Buffer.concat([await request.datastream.read(), Buffer.from(' café')]),
  }), { wire: true });
  const body = Buffer.from([0x00, 0x41, 0x7f, 0x5c, 0xc3, 0xa9, 0x0d, 0x42, 0x0a, 0x43, 0x0d, 0x0a, 0x44]);
  const head = `POST /p HTTP/1.1\r\nHost: x\r\nX-Tab: a\tb\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  await rawRequest(served.port, Buffer.concat([Buffer.from(head, 'latin1'), body]));
  assert.ok(await served.waitFor('── connection 1 closed'));
  const received = wireLines(served.output, '>');
  assert.ok(received.includes('X-Tab: a\\tb\\r\\n'));
  assert.deepEqual(received.slice(-3), ['\\x00A\\x7f\\\\\\xc3\\xa9\\rB\\n', 'C\\r\\n', 'D']);
  const sent = wireLines(served.output, '<');
  assert.deepEqual(sent.slice(-3), ['\\x00A\\x7f\\\\\\xc3\\xa9\\rB\\n', 'C\\r\\n', 'D caf\\xc3\\xa9']);
});

test('at most 2 KiB of each chunk is shown, the rest counted', async (t) => {
  const served = await serveTraced(t, async (request) => ({
    statuscode: 200, message: Buffer.alloc(64 * 1024 + (await request.datastream.read()).length, 'a'),
  }), { wire: true }, { maxBodySize: 1024 * 1024 });
  const upload = Buffer.alloc(64 * 1024, 'b');
  const { text } = await rawRequest(served.port, Buffer.concat([
    Buffer.from(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${upload.length}\r\nConnection: close\r\n\r\n`), upload,
  ]));
  assert.equal(parseRaw(text).body.length, 128 * 1024);
  assert.ok(await served.waitFor('── connection 1 closed'));
  const output = served.output;
  const lines = output.split('\n');
  const sent = lines.slice(lines.findIndex((line) => line.startsWith('< ')));
  const bodyLine = sent.findIndex((line) => line.startsWith('< aaa'));
  assert.equal(sent[bodyLine], `< ${'a'.repeat(2048)}`);
  assert.equal(sent[bodyLine + 1], `… ${128 * 1024 - 2048} more bytes`);
  // However the upload was cut into reads, what is shown and what is counted add up to all of it.
  const shownB = wireLines(output, '>').join('').split('b').length - 1;
  const counted = lines.slice(0, lines.findIndex((line) => line.startsWith('── request')))
    .map((line) => /^… (\d+) more bytes$/.exec(line)?.[1]).filter(Boolean).reduce((sum, n) => sum + Number(n), 0);
  assert.equal(shownB + counted, upload.length);
  assert.ok(counted > 0);
  assert.ok(output.length < 20_000, `the transcript stays small (${output.length} characters)`);
});

test('a headline marks every change of connection', async (t) => {
  const served = await serveTraced(t, hello, { wire: true });
  const first = await connectRaw(t, served.port);
  const second = await connectRaw(t, served.port);
  const ask = async (client: typeof first, name: string) => {
    client.socket.write(`GET /?name=${name} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.ok(await client.waitFor(`Hello, ${name}!`));
    assert.ok(await served.waitFor(`< Hello, ${name}!`));
  };
  await ask(first, 'A');
  await ask(second, 'B');
  await ask(first, 'C');
  const headlines = served.output.split('\n').filter((line) => line.startsWith('── connection'));
  assert.deepEqual(headlines.map((line) => normalize(line)), [
    '── connection 1 ── 127.0.0.1:PORT', '── connection 2 ── 127.0.0.1:PORT', '── connection 1 ── 127.0.0.1:PORT',
  ]);
  // The two client ports differ: each headline names its own connection.
  const ports = headlines.map((line) => line.split(':').pop());
  assert.equal(ports[0], ports[2]);
  assert.notEqual(ports[0], ports[1]);
});

test('colour: request lines, response lines and escapes each have their own', async (t) => {
  const served = await serveTraced(t, hello, { wire: true, color: true });
  await rawRequest(served.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.ok(await served.waitFor('closed'));
  assert.ok(served.output.includes('\x1b[32m> GET / HTTP/1.1\x1b[2m\\r\\n\x1b[22m\x1b[39m\n'));
  assert.ok(served.output.includes('\x1b[36m< HTTP/1.1 200 OK\x1b[2m\\r\\n\x1b[22m\x1b[39m\n'));
  assert.ok(served.output.includes('\x1b[2m──\x1b[22m \x1b[1mconnection 1\x1b[22m \x1b[2m──\x1b[22m 127.0.0.1:'));
});

test('HTTPS: the wire view shows the decrypted bytes', async (t) => {
  const served = await serveTraced(t, (request) => ({ statuscode: 200, message: `secret ${request.path}` }),
    { wire: true }, { tls: makeCertificate() });
  const body = await new Promise<string>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: served.port, path: '/vault', rejectUnauthorized: false, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
  assert.equal(body, 'secret /vault');
  assert.ok(await served.waitFor('< secret /vault'));
  const output = normalize(served.output);
  assert.match(output, /^── connection 1 ── 127\.0\.0\.1:PORT \(TLS, decrypted\)\n> GET \/vault HTTP\/1\.1\\r\\n\n/);
  assert.ok(wireLines(output, '<').includes('HTTP/1.1 200 OK\\r\\n'));
  assert.match(output, /── request 1 ── GET \/vault from 127\.0\.0\.1:PORT\n/);
});
