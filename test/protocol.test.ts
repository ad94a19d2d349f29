/**
 * End-to-end protocol behaviour over raw `net` sockets: versions,
 * keep-alive, pipelining, chunked bodies, refusals made before the callback,
 * `Expect: 100-continue` and what happens to bodies the callback leaves unread.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpRequest } from '../lib/index.js';
import { connectRaw, errorSink, parseRaw, rawRequest, serve, sleep, statusLines } from './support.js';

/** Splits a transcript of several responses that all carry Content-Length. */
function splitResponses(text: string): Array<ReturnType<typeof parseRaw>> {
  const responses: Array<ReturnType<typeof parseRaw>> = [];
  let rest = text;
  for (let i = 0; i < 20 && rest.length > 0; i += 1) {
    const split = rest.indexOf('\r\n\r\n');
    if (split === -1) break;
    const head = parseRaw(rest.slice(0, split + 4));
    const length = Number(head.headers['content-length'] ?? 0);
    const end = split + 4 + length;
    responses.push({ ...head, body: rest.slice(split + 4, end) });
    rest = rest.slice(end);
  }
  return responses;
}

/** Decodes a chunked body (no extensions or trailers expected). */
function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (let i = 0; i < 1000; i += 1) {
    const line = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, line), 16);
    if (!(size > 0)) return out;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
  return out;
}

describe('HTTP/1.0 requests', () => {
  it('answers a GET with an HTTP/1.0 status line and closes the connection', async (t) => {
    const sink = errorSink();
    let seen: HttpRequest | undefined;
    const { port } = await serve(t, (request) => {
      seen = request;
      return { statuscode: 200, message: `path=${request.path} query=${request.querystr}` };
    }, { onError: sink.onError });
    const { text, closed } = await rawRequest(port, 'GET /old?x=1 HTTP/1.0\r\n\r\n', { idleMs: 1000 });
    const response = parseRaw(text);
    assert.equal(response.statusLine, 'HTTP/1.0 200 OK');
    assert.equal(response.body, 'path=/old query=x=1');
    assert.equal(response.headers['content-length'], String('path=/old query=x=1'.length));
    assert.equal(response.headers['transfer-encoding'], undefined);
    assert.equal(closed, true);
    assert.equal(seen?.version, '1.0');
    assert.deepEqual(sink.errors, []);
  });

  it('lets the callback read a POST body sent with Content-Length', async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, async (request) => {
      const body = await request.datastream.text();
      return { statuscode: 201, message: `got ${request.verb} ${body}` };
    }, { onError: sink.onError });
    const { text, closed } = await rawRequest(port,
      'POST /form HTTP/1.0\r\nContent-Length: 11\r\n\r\nhello world', { idleMs: 1000 });
    const response = parseRaw(text);
    assert.equal(response.statusLine, 'HTTP/1.0 201 Created');
    assert.equal(response.body, 'got POST hello world');
    assert.equal(closed, true);
    assert.deepEqual(sink.errors, []);
  });
});

describe('keep-alive and pipelining', () => {
  it('serves two requests one after the other on one connection', async (t) => {
    const sink = errorSink();
    const ports = new Set<number>();
    const { port } = await serve(t, (request) => {
      ports.add(request.remoteportnum);
      return { statuscode: 200, message: `one ${request.path}` };
    }, { onError: sink.onError });
    const connection = await connectRaw(t, port);
    connection.socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(await connection.waitFor('one /first'), true);
    connection.socket.write('GET /second HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(await connection.waitFor('one /second'), true);
    const responses = splitResponses(connection.text);
    assert.deepEqual(responses.map((r) => r.statusLine), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    assert.deepEqual(responses.map((r) => r.body), ['one /first', 'one /second']);
    assert.equal(responses[0]!.headers.connection, 'keep-alive');
    assert.equal(connection.closed, false);
    assert.equal(ports.size, 1);
    assert.deepEqual(sink.errors, []);
  });

  // Issue 11, defect 5: CONNECT behind a request in progress destroyed the connection, and its answer with it.
  for (const [size, label] of [[5, 'a short answer'], [4 * 1024 * 1024, 'a 4 MiB streamed answer']] as const) {
    it(`CONNECT pipelined behind a request in progress lets ${label} finish, then closes without calling the callback`, async (t) => {
      const sink = errorSink();
      const calls: string[] = [];
      const { port } = await serve(t, async (request) => {
        calls.push(`${request.verb} ${request.path}`);
        // The answer is still being made when the CONNECT arrives.
        await new Promise((resolve) => setTimeout(resolve, 50));
        const body = Buffer.alloc(size, 'x');
        return size < 1024 ? { statuscode: 200, message: body } : {
          statuscode: 200, headers: { 'Content-Length': size },
          message: (async function* chunks() { for (let at = 0; at < size; at += 65536) yield body.subarray(at, at + 65536); })(),
        };
      }, { onError: sink.onError });
      const connection = await connectRaw(t, port);
      connection.socket.write('GET /b HTTP/1.1\r\nHost: x\r\n\r\nCONNECT e.x:443 HTTP/1.1\r\nHost: e.x:443\r\n\r\n');
      assert.equal(await connection.waitClose(10_000), true);
      assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 200 OK']);
      assert.equal(parseRaw(connection.text).body.length, size);
      assert.deepEqual(calls, ['GET /b']);
      assert.deepEqual(sink.errors, []);
    });
  }

  it('answers pipelined requests in request order with their own bodies', async (t) => {
    const sink = errorSink();
    const calls: string[] = [];
    const { port } = await serve(t, async (request) => {
      calls.push(request.path);
      const body = await request.datastream.text();
      return { statuscode: 200, message: `${request.path}:${body}` };
    }, { onError: sink.onError });
    const { text, closed } = await rawRequest(port,
      'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\naaa' +
      'GET /b HTTP/1.1\r\nHost: x\r\n\r\n' +
      'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\ncc\r\n0\r\n\r\n' +
      'POST /d HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndddd', { idleMs: 1000 });
    const responses = splitResponses(text);
    assert.deepEqual(responses.map((r) => r.body), ['/a:aaa', '/b:', '/c:cc', '/d:dddd']);
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200, 200]);
    assert.deepEqual(calls, ['/a', '/b', '/c', '/d']);
    assert.equal(closed, true);
    assert.deepEqual(sink.errors, []);
  });

  it('keeps response order when an earlier callback is slower than a later one', async (t) => {
    const sink = errorSink();
    const started: string[] = [];
    const answered: string[] = [];
    const { port } = await serve(t, async (request) => {
      started.push(request.path);
      const body = await request.datastream.text();
      if (request.path === '/slow') await sleep(150);
      answered.push(request.path);
      return { statuscode: 200, message: `${request.path}=${body}` };
    }, { onError: sink.onError });
    const { text } = await rawRequest(port,
      'POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nslow' +
      'POST /fast HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nfast' +
      'GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { idleMs: 1000 });
    const responses = splitResponses(text);
    assert.deepEqual(responses.map((r) => r.body), ['/slow=slow', '/fast=fast', '/last=']);
    assert.deepEqual(started, ['/slow', '/fast', '/last']);
    // The later callbacks really did finish first: order comes from the writer, not from serialising callbacks.
    assert.equal(answered[answered.length - 1], '/slow');
    assert.deepEqual(sink.errors, []);
  });

  it('keeps response order when a pipelined response asks for version 1.0', async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, async (request) => {
      if (request.path === '/slow') await sleep(100);
      return request.path === '/old'
        ? { statuscode: 200, version: '1.0', message: 'old' }
        : { statuscode: 200, message: `new ${request.path}` };
    }, { onError: sink.onError });
    const { text, closed } = await rawRequest(port,
      'GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /old HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 1000 });
    const responses = splitResponses(text);
    assert.deepEqual(responses.map((r) => r.statusLine), ['HTTP/1.1 200 OK', 'HTTP/1.0 200 OK']);
    assert.deepEqual(responses.map((r) => r.body), ['new /slow', 'old']);
    assert.equal(closed, true);
    assert.deepEqual(sink.errors, []);
  });
});

describe('chunked request bodies', () => {
  it('reads a chunked body and its trailers, looked up case-insensitively', async (t) => {
    const sink = errorSink();
    let trailers: Record<string, string> = {};
    const { port } = await serve(t, async (request) => {
      const body = await request.datastream.text();
      trailers = await request.datastream.getTrailers();
      return { statuscode: 200, message: `${body}|${trailers['x-checksum']}|${trailers['X-CHECKSUM']}|${trailers['X-Other']}` };
    }, { onError: sink.onError });
    const { text } = await rawRequest(port,
      'POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nConnection: close\r\n\r\n' +
      '5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Checksum: abc123\r\nx-other: two\r\n\r\n', { idleMs: 1000 });
    const response = parseRaw(text);
    assert.equal(response.status, 200);
    assert.equal(response.body, 'hello world|abc123|abc123|two');
    assert.deepEqual(Object.keys(trailers), ['X-Checksum', 'x-other']);
    assert.deepEqual(sink.errors, []);
  });
});

describe('response versions', () => {
  it("'1.1' keeps the connection for the next request", async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, (request) => ({ statuscode: 200, version: '1.1', message: `v ${request.path}` }),
      { onError: sink.onError });
    const connection = await connectRaw(t, port);
    connection.socket.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(await connection.waitFor('v /1'), true);
    connection.socket.write('GET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(await connection.waitFor('v /2'), true);
    assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    assert.equal(connection.closed, false);
    assert.deepEqual(sink.errors, []);
  });

  it("'1.0' streams without chunked encoding and closes the connection", async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, () => ({
      statuscode: 200,
      version: '1.0',
      headers: { 'Content-Type': 'text/plain' },
      message: (async function* parts() { yield 'first,'; await sleep(5); yield Buffer.from('second'); })(),
    }), { onError: sink.onError });
    const { text, closed } = await rawRequest(port, 'GET /stream HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 1000 });
    const response = parseRaw(text);
    assert.equal(response.statusLine, 'HTTP/1.0 200 OK');
    assert.equal(response.headers['transfer-encoding'], undefined);
    assert.equal(response.headers['content-length'], undefined);
    assert.equal(response.headers.connection, 'close');
    assert.equal(response.body, 'first,second');
    assert.equal(closed, true);
    assert.deepEqual(sink.errors, []);
  });

  it("'1.1' streams with chunked encoding for comparison", async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, () => ({
      statuscode: 200,
      message: (async function* parts() { yield 'first,'; yield 'second'; })(),
    }), { onError: sink.onError });
    const { text } = await rawRequest(port, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { idleMs: 1000 });
    const response = parseRaw(text);
    assert.equal(response.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(response.headers['transfer-encoding'], 'chunked');
    assert.equal(dechunk(response.body), 'first,second');
    assert.deepEqual(sink.errors, []);
  });

  it("'0.9' sends the body alone and closes", async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, () => ({
      statuscode: 200, version: '0.9', headers: { 'X-Ignored': 'yes' }, message: '<html>old</html>',
    }), { onError: sink.onError });
    const { text, closed } = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 1000 });
    assert.equal(text, '<html>old</html>');
    assert.equal(closed, true);
    assert.deepEqual(sink.errors, []);
  });

  it("'0.9' with a streamed body sends only the bytes of the stream", async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, () => ({
      statuscode: 200, version: '0.9', message: (async function* parts() { yield 'a'; yield 'b'; })(),
    }), { onError: sink.onError });
    const { text, closed } = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 1000 });
    assert.equal(text, 'ab');
    assert.equal(closed, true);
    assert.deepEqual(sink.errors, []);
  });

  it("downgrades a '1.1' response to an HTTP/1.0 request", async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, () => ({ statuscode: 200, version: '1.1', message: 'downgraded' }),
      { onError: sink.onError });
    const { text, closed } = await rawRequest(port, 'GET / HTTP/1.0\r\n\r\n', { idleMs: 1000 });
    const response = parseRaw(text);
    assert.equal(response.statusLine, 'HTTP/1.0 200 OK');
    assert.equal(response.body, 'downgraded');
    assert.equal(closed, true);
    assert.deepEqual(sink.errors, []);
  });
});

describe('Connection: close', () => {
  it('from the client closes after the response', async (t) => {
    const sink = errorSink();
    let calls = 0;
    const { port } = await serve(t, () => { calls += 1; return { statuscode: 200, message: 'bye' }; },
      { onError: sink.onError });
    const { text, closed } = await rawRequest(port,
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 1000 });
    assert.deepEqual(statusLines(text), ['HTTP/1.1 200 OK']);
    assert.equal(parseRaw(text).headers.connection, 'close');
    assert.equal(parseRaw(text).body, 'bye');
    assert.equal(closed, true);
    assert.equal(calls, 1);
    assert.deepEqual(sink.errors, []);
  });

  it('from the callback closes after the response', async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, () => ({ statuscode: 200, headers: { Connection: 'close' }, message: 'done' }),
      { onError: sink.onError });
    const { text, closed } = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 1000 });
    const response = parseRaw(text);
    assert.equal(response.status, 200);
    assert.equal(response.headers.connection, 'close');
    assert.equal(response.body, 'done');
    assert.equal(closed, true);
    assert.deepEqual(sink.errors, []);
  });
  it('from the callback stops requests pipelined behind it from reaching the callback', async (t) => {
    const sink = errorSink();
    const calls: string[] = [];
    const { port } = await serve(t, (request) => {
      calls.push(request.path);
      return { statuscode: 200, headers: { Connection: 'close' }, message: `only ${request.path}` };
    }, { onError: sink.onError });
    const { text, closed } = await rawRequest(port,
      'GET /first HTTP/1.1\r\nHost: x\r\n\r\nPOST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi', { idleMs: 1000 });
    assert.deepEqual(statusLines(text), ['HTTP/1.1 200 OK']);
    assert.equal(parseRaw(text).body, 'only /first');
    assert.equal(closed, true);
    assert.deepEqual(calls, ['/first']);
    assert.deepEqual(sink.errors, []);
  });
});

describe('responses without a body', () => {
  it('HEAD keeps the Content-Length of GET and sends no body', async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, () => ({ statuscode: 200, message: 'twelve bytes' }),
      { onError: sink.onError });
    // A stray body byte after the HEAD response would corrupt the GET answer behind it.
    const { text } = await rawRequest(port,
      'HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { idleMs: 1000 });
    const split = text.indexOf('\r\n\r\n');
    const head = parseRaw(text.slice(0, split + 4));
    assert.equal(head.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(head.headers['content-length'], '12');
    const rest = text.slice(split + 4);
    assert.ok(rest.startsWith('HTTP/1.1 200 OK\r\n'), `unexpected bytes after the HEAD response: ${JSON.stringify(rest.slice(0, 40))}`);
    const get = parseRaw(rest);
    assert.equal(get.headers['content-length'], '12');
    assert.equal(get.body, 'twelve bytes');
    assert.deepEqual(sink.errors, []);
  });

  it('HEAD over HTTP/1.0 keeps the Content-Length and sends no body', async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, () => ({ statuscode: 200, message: 'twelve bytes' }), { onError: sink.onError });
    const { text, closed } = await rawRequest(port, 'HEAD / HTTP/1.0\r\n\r\n', { idleMs: 1000 });
    const response = parseRaw(text);
    assert.equal(response.statusLine, 'HTTP/1.0 200 OK');
    assert.equal(response.headers['content-length'], '12');
    assert.equal(response.body, '');
    assert.ok(text.endsWith('\r\n\r\n'));
    assert.equal(closed, true);
    assert.deepEqual(sink.errors, []);
  });

  it('HEAD with a streamed body sends no body bytes', async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, () => ({ statuscode: 200, message: (async function* parts() { yield 'streamed'; })() }),
      { onError: sink.onError });
    const { text } = await rawRequest(port,
      'HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { idleMs: 1000 });
    const split = text.indexOf('\r\n\r\n');
    assert.equal(parseRaw(text.slice(0, split + 4)).status, 200);
    assert.ok(text.slice(split + 4).startsWith('HTTP/1.1 200 OK\r\n'));
    assert.deepEqual(sink.errors, []);
  });

  for (const status of [204, 304]) {
    it(`${status} carries no body even when the callback gives one`, async (t) => {
      const sink = errorSink();
      const { port } = await serve(t, (request) => (request.path === '/empty'
        ? { statuscode: status, message: 'must not be sent' }
        : { statuscode: 200, message: 'next' }), { onError: sink.onError });
      const { text } = await rawRequest(port,
        'GET /empty HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { idleMs: 1000 });
      assert.equal(text.includes('must not be sent'), false);
      const split = text.indexOf('\r\n\r\n');
      const first = parseRaw(text.slice(0, split + 4));
      assert.equal(first.status, status);
      assert.equal(first.headers['transfer-encoding'], undefined);
      if (status === 204) assert.equal(first.headers['content-length'], undefined);
      const second = parseRaw(text.slice(split + 4));
      assert.equal(second.statusLine, 'HTTP/1.1 200 OK');
      assert.equal(second.body, 'next');
      assert.deepEqual(sink.errors, []);
    });
  }
});

describe('refusals made before the callback', () => {
  const refusals: Array<{ name: string; bytes: string; status: number; options?: { maxHeaderSize: number } }> = [
    { name: 'a transfer coding other than chunked', status: 501,
      bytes: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n' },
    { name: 'an HTTP/1.1 request without Host', status: 400, bytes: 'GET / HTTP/1.1\r\n\r\n' },
    { name: 'garbage the parser rejects', status: 400, bytes: 'HELLO THERE\r\n\r\n' },
    { name: 'a header line without a colon', status: 400, bytes: 'GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n' },
    { name: 'headers larger than maxHeaderSize', status: 431, options: { maxHeaderSize: 1024 },
      bytes: `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2048)}\r\n\r\n` },
    { name: 'an HTTP/2.0 request line over HTTP/1', status: 505, bytes: 'GET / HTTP/2.0\r\nHost: x\r\n\r\n' },
  ];
  for (const refusal of refusals) {
    it(`answers ${refusal.status} to ${refusal.name} without calling the callback`, async (t) => {
      const sink = errorSink();
      let calls = 0;
      const { port } = await serve(t, () => { calls += 1; return { statuscode: 200, message: 'called' }; },
        { onError: sink.onError, ...refusal.options });
      const { text, closed } = await rawRequest(port, refusal.bytes, { idleMs: 1000 });
      const response = parseRaw(text);
      assert.equal(response.status, refusal.status, text);
      assert.match(response.statusLine, /^HTTP\/1\.[01] /);
      assert.equal(statusLines(text).length, 1);
      assert.equal(text.includes('called'), false);
      assert.equal(closed, true);
      assert.equal(calls, 0);
      assert.deepEqual(sink.errors, []);
    });
  }

  it('closes the connection after a refusal even when more requests follow', async (t) => {
    let calls = 0;
    const sink = errorSink();
    const { port } = await serve(t, () => { calls += 1; return { statuscode: 200 }; }, { onError: sink.onError });
    const { text, closed } = await rawRequest(port,
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 1000 });
    assert.deepEqual(statusLines(text).map((line) => line.split(' ')[1]), ['501']);
    assert.equal(closed, true);
    assert.equal(calls, 0);
  });
});

describe('Expect: 100-continue', () => {
  it('sends 100 Continue only when the callback first reads the body', async (t) => {
    const sink = errorSink();
    let entered!: () => void;
    const inCallback = new Promise<void>((resolve) => { entered = resolve; });
    let release!: () => void;
    const go = new Promise<void>((resolve) => { release = resolve; });
    const { port } = await serve(t, async (request) => {
      entered();
      await go;
      const body = await request.datastream.text();
      return { statuscode: 200, message: `echo ${body}` };
    }, { onError: sink.onError });
    const connection = await connectRaw(t, port);
    connection.socket.write('PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await inCallback;
    await sleep(50);
    assert.equal(connection.text, '', 'nothing may be sent before the callback reads');
    release();
    assert.equal(await connection.waitFor('HTTP/1.1 100 Continue\r\n\r\n'), true);
    connection.socket.write('hello');
    assert.equal(await connection.waitFor('echo hello'), true);
    assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 100 Continue', 'HTTP/1.1 200 OK']);
    assert.ok(connection.text.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n'));
    assert.deepEqual(sink.errors, []);
  });

  // Issue 11, defect 6: lengths past 2^53 (not safe integers) were taken for "unknown" and invited.
  for (const length of ['2000000', '9007199254740993', '9223372036854775807', '18446744073709551615']) {
    it(`an announced Content-Length of ${length}, over maxBodySize, gets 413 at once, never 100 Continue`, async (t) => {
      const { port } = await serve(t, async (request) => ({ statuscode: 200, message: await request.datastream.text() }));
      const connection = await connectRaw(t, port);
      connection.socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`);
      assert.equal(await connection.waitClose(5000), true);
      assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 413 Payload Too Large']);
    });
  }

  it('sends 100 Continue on a first read(size) and keeps the connection for the next request', async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, async (request) => {
      if (request.verb === 'GET') return { statuscode: 200, message: 'second' };
      const first = await request.datastream.read(2);
      return { statuscode: 200, message: `first ${first.toString()}` };
    }, { onError: sink.onError });
    const connection = await connectRaw(t, port);
    connection.socket.write('PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    assert.equal(await connection.waitFor('HTTP/1.1 100 Continue\r\n\r\n'), true);
    connection.socket.write('hello');
    assert.equal(await connection.waitFor('first he'), true);
    connection.socket.write('GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(await connection.waitFor('second'), true);
    assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 100 Continue', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    assert.equal(connection.closed, false);
    assert.deepEqual(sink.errors, []);
  });

  it('never sends 100 Continue when the callback answers without reading, and closes', async (t) => {
    const sink = errorSink();
    let calls = 0;
    const { port } = await serve(t, () => { calls += 1; return { statuscode: 401, message: 'log in first' }; },
      { onError: sink.onError });
    const { text, closed } = await rawRequest(port,
      'PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n', { idleMs: 1000 });
    assert.deepEqual(statusLines(text), ['HTTP/1.1 401 Unauthorized']);
    assert.equal(parseRaw(text).body, 'log in first');
    assert.equal(closed, true);
    assert.equal(calls, 1);
    assert.deepEqual(sink.errors, []);
  });

  it('answers 413 without 100 Continue to a body announced larger than maxBodySize', async (t) => {
    const sink = errorSink();
    let failure: unknown;
    const { port } = await serve(t, async (request) => {
      try {
        await request.datastream.text();
      } catch (error) {
        failure = error;
        throw error;
      }
      return { statuscode: 200, message: 'read it' };
    }, { onError: sink.onError, maxBodySize: 100 });
    const { text, closed } = await rawRequest(port,
      'PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n', { idleMs: 1000 });
    assert.deepEqual(statusLines(text), ['HTTP/1.1 413 Payload Too Large']);
    assert.equal((failure as { status?: number }).status, 413);
    assert.equal(closed, true);
    assert.deepEqual(sink.errors, []);
  });
});

describe('bodies the callback leaves unread', () => {
  it('drains a small unread body so the next request on the connection works', async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, (request) => ({ statuscode: 200, message: `saw ${request.verb} ${request.path}` }),
      { onError: sink.onError });
    const connection = await connectRaw(t, port);
    connection.socket.write('POST /ignored HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234');
    assert.equal(await connection.waitFor('saw POST /ignored'), true);
    connection.socket.write('56789GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(await connection.waitFor('saw GET /next'), true);
    assert.deepEqual(statusLines(connection.text), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    assert.equal(connection.closed, false);
    assert.deepEqual(sink.errors, []);
  });

  it('drains the rest of a partly read body', async (t) => {
    const sink = errorSink();
    const { port } = await serve(t, async (request) => {
      const first = await request.datastream.read(3);
      return { statuscode: 200, message: `first ${first.toString()} of ${request.path}` };
    }, { onError: sink.onError });
    const { text } = await rawRequest(port,
      'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabcdefghij' +
      'GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { idleMs: 1000 });
    const responses = splitResponses(text);
    assert.deepEqual(responses.map((r) => r.body), ['first abc of /a', 'first  of /b']);
    assert.deepEqual(sink.errors, []);
  });

  it('closes the connection after the response when the unread body is large', async (t) => {
    const sink = errorSink();
    let calls = 0;
    const { port } = await serve(t, (request) => { calls += 1; return { statuscode: 200, message: `no thanks ${request.path}` }; },
      { onError: sink.onError });
    const { text, closed } = await rawRequest(port,
      `POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: ${100 * 1024}\r\n\r\n${'x'.repeat(1000)}`, { idleMs: 1000 });
    const response = parseRaw(text);
    assert.equal(response.status, 200);
    assert.equal(response.body, 'no thanks /big');
    assert.equal(response.headers.connection, 'close');
    assert.equal(closed, true);
    assert.equal(calls, 1);
    assert.deepEqual(sink.errors, []);
  });
});

describe('request.signal', () => {
  for (const version of ['1.1', '1.0', '0.9'] as const) {
    it(`stays unaborted after a complete '${version}' response`, async (t) => {
      const sink = errorSink();
      const signals: AbortSignal[] = [];
      const { port } = await serve(t, (request) => {
        signals.push(request.signal);
        return { statuscode: 200, version, message: 'complete' };
      }, { onError: sink.onError });
      const { text, closed } = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { idleMs: 1000 });
      assert.ok(text.endsWith('complete'));
      assert.equal(closed, true);
      await sleep(20);
      assert.equal(signals.length, 1);
      assert.equal(signals[0]!.aborted, false);
      assert.deepEqual(sink.errors, []);
    });
  }

  for (const version of ['1.1', '1.0', '0.9'] as const) {
    it(`aborts when the client leaves during a streamed '${version}' response`, async (t) => {
      const sink = errorSink();
      let signal: AbortSignal | undefined;
      const { port } = await serve(t, (request) => {
        signal = request.signal;
        return {
          statuscode: 200,
          version,
          message: (async function* slow() {
            for (let i = 0; i < 100 && !request.signal.aborted; i += 1) { yield `part ${i}\n`; await sleep(10); }
          })(),
        };
      }, { onError: sink.onError });
      const connection = await connectRaw(t, port);
      connection.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(await connection.waitFor('part 1\n'), true);
      connection.socket.destroy();
      for (let i = 0; i < 50 && !signal?.aborted; i += 1) await sleep(10);
      assert.equal(signal?.aborted, true);
      if (version === '0.9') assert.ok(connection.text.startsWith('part 0\n'));
      else assert.ok(connection.text.startsWith(`HTTP/${version} 200 OK\r\n`));
      assert.deepEqual(sink.errors, [], 'a client leaving is not reported as an error');
    });
  }

  it('aborts when the client disconnects while the callback runs', async (t) => {
    const sink = errorSink();
    let entered!: () => void;
    const inCallback = new Promise<void>((resolve) => { entered = resolve; });
    let aborted!: (value: boolean) => void;
    const outcome = new Promise<boolean>((resolve) => { aborted = resolve; });
    const { port } = await serve(t, async (request) => {
      const { signal } = request;
      assert.equal(signal.aborted, false);
      const timer = setTimeout(() => aborted(false), 1000);
      signal.addEventListener('abort', () => { clearTimeout(timer); aborted(true); }, { once: true });
      entered();
      await outcome;
      return { statuscode: 200, message: 'too late' };
    }, { onError: sink.onError });
    const connection = await connectRaw(t, port);
    connection.socket.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n');
    await inCallback;
    connection.socket.destroy();
    assert.equal(await outcome, true);
    await sleep(20);
    assert.deepEqual(sink.errors, []);
  });
});
