/**
 * Hostile and broken request bytes, sent over raw sockets: each gets the
 * right status and a close, and the callback never sees a half-valid
 * request. Node's parser refuses most of these itself; the rest are the
 * server's checks (request-checks.ts, first-bytes.ts, connection.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerOptions } from '../lib/index.js';
import { connectRaw, errorSink, parseRaw, rawRequest, serve, sleep, statusLines } from './support.js';

const host = 'Host: x\r\n';

interface Refusal {
  name: string;
  bytes: string;
  status: number;
  options?: ServerOptions;
}

/** Heads the callback must never see. */
const refusedHeads: Refusal[] = [
  { name: 'bare LF line endings', status: 400, bytes: 'GET / HTTP/1.1\nHost: x\n\n' },
  { name: 'a bare CR inside the headers', status: 400, bytes: 'GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n' },
  { name: 'obs-fold (a header continued on the next line)', status: 400, bytes: `GET / HTTP/1.1\r\n${host}X-A: one\r\n two\r\n\r\n` },
  { name: 'a space before the colon', status: 400, bytes: 'GET / HTTP/1.1\r\nHost : x\r\n\r\n' },
  { name: 'a control character in a header value', status: 400, bytes: `GET / HTTP/1.1\r\n${host}X-A: a\x01b\r\n\r\n` },
  { name: 'NUL in a header value', status: 400, bytes: `GET / HTTP/1.1\r\n${host}X-A: a\x00b\r\n\r\n` },
  { name: 'NUL in the request target', status: 400, bytes: `GET /a\x00b HTTP/1.1\r\n${host}\r\n` },
  { name: 'a lower-case method', status: 400, bytes: `get / HTTP/1.1\r\n${host}\r\n` },
  { name: 'two Host headers', status: 400, bytes: 'GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n' },
  { name: 'two Host headers that agree', status: 400, bytes: 'GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n' },
  { name: 'a Host with a space and a slash', status: 400, bytes: 'GET / HTTP/1.1\r\nHost: a b/c\r\n\r\n' },
  { name: 'a Host with userinfo', status: 400, bytes: 'GET / HTTP/1.1\r\nHost: user@a\r\n\r\n' },
  { name: 'a Host with a non-numeric port', status: 400, bytes: 'GET / HTTP/1.1\r\nHost: a:http\r\n\r\n' },
  { name: 'a Host with an unbracketed IPv6 address', status: 400, bytes: 'GET / HTTP/1.1\r\nHost: ::1:80\r\n\r\n' },
  { name: 'chunked on HTTP/1.0', status: 400, bytes: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n' },
  { name: 'Content-Length and Transfer-Encoding (CL.TE)', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` },
  { name: 'Transfer-Encoding and Content-Length (TE.CL)', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n` },
  { name: 'two different Content-Lengths', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd` },
  { name: 'two equal Content-Lengths', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc` },
  { name: 'a Content-Length list', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Content-Length: 3, 3\r\n\r\nabc` },
  { name: 'a negative Content-Length', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Content-Length: -1\r\n\r\n` },
  { name: 'a Content-Length with a plus sign', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Content-Length: +3\r\n\r\nabc` },
  { name: 'a hexadecimal Content-Length', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Content-Length: 0x3\r\n\r\nabc` },
  { name: 'a Content-Length past 2^64', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Content-Length: 99999999999999999999999\r\n\r\nabc` },
  { name: 'a Content-Length with inner space', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Content-Length: 3 3\r\n\r\nabc` },
  { name: 'chunked not last (chunked, gzip)', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n` },
  { name: 'chunked applied twice', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n` },
  { name: 'two Transfer-Encoding headers', status: 400, bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` },
  { name: 'the transfer coding gzip', status: 501, bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: gzip\r\n\r\nabc` },
  { name: 'the transfer coding identity', status: 501, bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: identity\r\n\r\n` },
  { name: 'an unknown transfer coding', status: 501, bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n` },
  { name: 'an HTTP/3.0 request line', status: 505, bytes: `GET / HTTP/3.0\r\n${host}\r\n` },
  { name: 'the HTTP/2 prior-knowledge preface', status: 505, bytes: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' },
  { name: 'a versionless line with a method other than GET', status: 400, bytes: 'POST /\r\n' },
  { name: 'CONNECT (no tunnels here)', status: 501, bytes: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n' },
  { name: 'more header lines than maxHeaderCount', status: 431, options: { maxHeaderCount: 10 },
    bytes: `GET / HTTP/1.1\r\n${host}${'X-A: b\r\n'.repeat(10)}\r\n` },
  { name: 'over a thousand header lines (Node would keep 2,000 and drop the rest silently)', status: 431,
    bytes: `GET / HTTP/1.1\r\n${host}${Array.from({ length: 2500 }, (_, i) => `X${i}: y\r\n`).join('')}\r\n`,
    options: { maxHeaderSize: 64 * 1024 } },
  { name: 'a target longer than maxUrlLength', status: 414, options: { maxUrlLength: 100 },
    bytes: `GET /${'a'.repeat(100)} HTTP/1.1\r\n${host}\r\n` },
  { name: 'a target longer than the default maxUrlLength (8 KiB)', status: 414,
    bytes: `GET /${'a'.repeat(8192)} HTTP/1.1\r\n${host}\r\n` },
];

describe('request heads refused before the callback', () => {
  for (const refusal of refusedHeads) {
    it(`${refusal.status} for ${refusal.name}`, async (t) => {
      const sink = errorSink();
      let calls = 0;
      const { port } = await serve(t, () => { calls += 1; return { statuscode: 200, message: 'called' }; },
        { onError: sink.onError, ...refusal.options });
      const { text, closed } = await rawRequest(port, refusal.bytes, { idleMs: 1500 });
      const response = parseRaw(text);
      assert.equal(response.status, refusal.status, JSON.stringify(text.slice(0, 200)));
      assert.equal(statusLines(text).length, 1);
      assert.equal(closed, true, 'the connection is closed after the refusal');
      assert.equal(calls, 0, 'the callback never sees the request');
      assert.deepEqual(sink.errors, []);
    });
  }

  it('sound heads still pass: a Host with a port, an IPv6 literal, and an absolute-form target', async (t) => {
    const seen: string[] = [];
    const { port } = await serve(t, (request) => { seen.push(String(request.headers.host)); return { statuscode: 200 }; });
    for (const value of ['example.com:8080', '[::1]:80', '127.0.0.1', 'xn--bcher-kva.example']) {
      const { text } = await rawRequest(port, `GET / HTTP/1.1\r\nHost: ${value}\r\nConnection: close\r\n\r\n`);
      assert.match(text, /^HTTP\/1\.1 200 /, value);
    }
    const { text } = await rawRequest(port, 'GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.deepEqual(seen, ['example.com:8080', '[::1]:80', '127.0.0.1', 'xn--bcher-kva.example', 'example.com']);
  });

  it('exactly maxHeaderCount header lines are accepted', async (t) => {
    const { port } = await serve(t, (request) => ({ statuscode: 200, message: String(Object.keys(request.headers).length) }),
      { maxHeaderCount: 10 });
    const { text } = await rawRequest(port, `GET / HTTP/1.1\r\n${host}Connection: close\r\n${'X-A: b\r\n'.repeat(8)}\r\n`);
    assert.match(text, /^HTTP\/1\.1 200 /);
  });
});

/** Bodies that break after a valid head: the request is answered with the error, never with the callback's answer. */
const brokenBodies: Array<{ name: string; bytes: string; status: number }> = [
  { name: 'a chunk size that is not hexadecimal', status: 400,
    bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n` },
  { name: 'a chunk size past 2^64', status: 400,
    bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabc\r\n` },
  { name: 'a chunk without its CRLF', status: 400,
    bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n` },
  { name: 'a chunk extension over 16 KiB', status: 413,
    bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n1;${'a'.repeat(20_000)}\r\nx\r\n0\r\n\r\n` },
  { name: 'obs-fold in a trailer', status: 400,
    bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: a\r\n b\r\n\r\n` },
  { name: 'a control character in a trailer', status: 400,
    bytes: `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: a\x01\r\n\r\n` },
];

describe('request bodies that break after a valid head', () => {
  for (const broken of brokenBodies) {
    it(`${broken.status} for ${broken.name}; the body read rejects and the callback's answer is dropped`, async (t) => {
      const sink = errorSink();
      let outcome: unknown = 'callback not called';
      const { port } = await serve(t, async (request) => {
        try {
          outcome = `read ${(await request.datastream.text()).length} bytes`;
        } catch (error) {
          outcome = error;
        }
        return { statuscode: 200, message: 'from the callback' };
      }, { onError: sink.onError });
      const { text, closed } = await rawRequest(port, broken.bytes, { idleMs: 1500 });
      assert.equal(parseRaw(text).status, broken.status, JSON.stringify(text.slice(0, 200)));
      assert.equal(statusLines(text).length, 1);
      assert.equal(text.includes('from the callback'), false);
      assert.equal(closed, true);
      await sleep(20);
      assert.ok(outcome instanceof Error, `the body read: ${String(outcome)}`);
    });
  }

  it('a broken body after the callback already answered just closes: no second status line', async (t) => {
    const { port } = await serve(t, () => ({ statuscode: 200, message: 'early' }));
    const connection = await connectRaw(t, port);
    connection.socket.write(`POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`);
    assert.equal(await connection.waitFor('early'), true);
    connection.socket.write('zz\r\n');
    assert.equal(await connection.waitClose(1000), true);
    assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 200 OK']);
  });
});

describe('HTTP/0.9 request lines', () => {
  it('a bare "GET /" line from a client that then waits in silence gets 400 at once (Seattle refuses 0.9)', async (t) => {
    let called = 0;
    const { port } = await serve(t, () => { called += 1; return { statuscode: 200 }; },
      { headersTimeout: 5000, requestTimeout: 10_000 });
    const connection = await connectRaw(t, port);
    const started = performance.now();
    connection.socket.write('GET /old\r\n');
    assert.equal(await connection.waitClose(2000), true, 'answered and closed without waiting for headersTimeout');
    assert.ok(performance.now() - started < 1000);
    assert.match(connection.text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.equal(called, 0);
  });

  it('a 0.9 line split across packets, which the parser finishes, gets 400 too', async (t) => {
    let called = 0;
    const { port } = await serve(t, () => { called += 1; return { statuscode: 200 }; });
    const connection = await connectRaw(t, port);
    connection.socket.write('GET /ol');
    await new Promise((resolve) => setImmediate(resolve));
    connection.socket.write('d\r\n\r\n');
    assert.equal(await connection.waitClose(2000), true);
    assert.match(connection.text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.equal(called, 0);
  });

  it('with http09, a bare "GET /" line from a client that then waits in silence is answered at once, 0.9 style', async (t) => {
    const { port } = await serve(t, (request) => ({ statuscode: 200, message: `v${request.version} ${request.path}` }),
      { headersTimeout: 5000, requestTimeout: 10_000, http09: true });
    const connection = await connectRaw(t, port);
    const started = performance.now();
    connection.socket.write('GET /old\r\n');
    assert.equal(await connection.waitClose(2000), true, 'answered and closed without waiting for headersTimeout');
    assert.ok(performance.now() - started < 1000);
    assert.equal(connection.text, 'v0.9 /old');
  });

  it('a connection that sends nothing gets 408 after headersTimeout', async (t) => {
    const { port } = await serve(t, () => ({ statuscode: 200 }), { headersTimeout: 300, requestTimeout: 1000 });
    const connection = await connectRaw(t, port);
    const started = performance.now();
    assert.equal(await connection.waitClose(3000), true);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 2000, `closed after ${elapsed.toFixed(0)} ms`);
    assert.match(connection.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('a client that leaves before sending anything is let go (its slot is free again)', async (t) => {
    const { port } = await serve(t, () => ({ statuscode: 200, message: 'in' }), { maxConnections: 1 });
    const first = await connectRaw(t, port);
    first.socket.end();
    await sleep(100);
    const { text } = await rawRequest(port, `GET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
    assert.match(text, /^HTTP\/1\.1 200 [\s\S]*in$/);
  });
});

describe('after hostile input the listener keeps serving', () => {
  it('every refusal above, then a valid request, on one listener', async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, () => ({ statuscode: 200, message: 'still here' }), { onError: sink.onError });
    await Promise.all(refusedHeads.filter((refusal) => refusal.options === undefined)
      .map((refusal) => rawRequest(port, refusal.bytes, { idleMs: 1500 })));
    const { text } = await rawRequest(port, `GET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
    assert.match(text, /^HTTP\/1\.1 200 [\s\S]*still here$/);
    assert.deepEqual(sink.errors, []);
  });
});
