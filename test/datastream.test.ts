/**
 * The `datastream` API over real requests: file-like reads, whole-body
 * readers, iteration, limits, early ends and trailers.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { HttpError } from '../lib/index.js';
import type { Callback, ServerOptions } from '../lib/index.js';
import { connectRaw, errorSink, parseRaw, rawRequest, serve, sleep } from './support.js';
import { bodyOf } from '../lib/request.js';

/** A closing POST with a Content-Length body. */
function post(body: string | Buffer, headers = ''): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([
    Buffer.from(`POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: ${bytes.length}\r\n${headers}Connection: close\r\n\r\n`),
    bytes,
  ]);
}

/** A closing POST with a chunked body cut into `parts`. */
function chunkedPost(parts: string[], trailers = ''): string {
  const chunks = parts.map((part) => `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`).join('');
  return `POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunks}0\r\n${trailers}\r\n`;
}

/** Serves `callback`, sends `bytes` and returns the parsed response and the errors reported. */
async function exchange(
  t: Parameters<typeof serve>[0], callback: Callback, bytes: string | Buffer, options: ServerOptions = {},
) {
  const sink = errorSink();
  const { port } = await serve(t, callback, { onError: sink.onError, ...options });
  const { text, closed } = await rawRequest(port, bytes, { idleMs: 1000 });
  return { response: parseRaw(text), closed, errors: sink.errors };
}

describe('datastream.read(size)', () => {
  it('returns at most size bytes, then an empty Buffer at the end', async (t) => {
    const sizes: number[] = [];
    const parts: Buffer[] = [];
    let after: Buffer | undefined;
    const { response, errors } = await exchange(t, async (request) => {
      for (let i = 0; i < 50; i += 1) {
        const chunk = await request.datastream.read(4);
        assert.ok(Buffer.isBuffer(chunk));
        sizes.push(chunk.length);
        if (chunk.length === 0) break;
        parts.push(chunk);
      }
      after = await request.datastream.read(4);
      return { statuscode: 200, message: Buffer.concat(parts) };
    }, post('abcdefghijklmnopqrstuvwxyz'));
    assert.equal(response.status, 200);
    assert.equal(response.body, 'abcdefghijklmnopqrstuvwxyz');
    assert.ok(sizes.slice(0, -1).every((size) => size > 0 && size <= 4), `sizes ${sizes}`);
    assert.equal(sizes[sizes.length - 1], 0);
    assert.ok(Buffer.isBuffer(after));
    assert.equal(after?.length, 0);
    assert.deepEqual(errors, []);
  });

  it('waits for bytes that arrive later, across chunks of a chunked body', async (t) => {
    const sink = errorSink();
    const reads: string[] = [];
    const { port } = await serve(t, async (request) => {
      for (let i = 0; i < 20; i += 1) {
        const chunk = await request.datastream.read(3);
        if (chunk.length === 0) break;
        reads.push(chunk.toString());
      }
      return { statuscode: 200, message: reads.join('|') };
    }, { onError: sink.onError });
    const connection = await connectRaw(t, port);
    connection.socket.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n');
    await sleep(30);
    connection.socket.write('2\r\nef\r\n0\r\n\r\n');
    assert.equal(await connection.waitFor(/\r\n\r\n[a-z|]+$/), true);
    const response = parseRaw(connection.text);
    assert.equal(response.status, 200);
    assert.equal(reads.join(''), 'abcdef');
    assert.ok(reads.every((part) => part.length > 0 && part.length <= 3), `reads ${reads}`);
    assert.equal(response.body, reads.join('|'));
    assert.deepEqual(sink.errors, []);
  });

  it('with no size returns the rest of the body', async (t) => {
    const { response, errors } = await exchange(t, async (request) => {
      const head = await request.datastream.read(5);
      const rest = await request.datastream.read();
      const end = await request.datastream.read();
      return { statuscode: 200, message: `${head.toString()}|${rest.toString()}|${end.length}` };
    }, post('hello, whole world'));
    assert.equal(response.body, 'hello|, whole world|0');
    assert.deepEqual(errors, []);
  });

  it('then text() returns what read() left', async (t) => {
    const { response, errors } = await exchange(t, async (request) => {
      const head = await request.datastream.read(6);
      const rest = await request.datastream.text();
      return { statuscode: 200, message: `${head.toString()}+${rest}` };
    }, post('first second third'));
    assert.equal(response.body, 'first +second third');
    assert.deepEqual(errors, []);
  });

  it('then text() returns what read() left of a chunked body', async (t) => {
    const { response, errors } = await exchange(t, async (request) => {
      const head = await request.datastream.read(2);
      const rest = await request.datastream.text();
      return { statuscode: 200, message: `${head.toString()}+${rest}` };
    }, chunkedPost(['abc', 'def', 'ghi']));
    assert.equal(response.body, 'ab+cdefghi');
    assert.deepEqual(errors, []);
  });

  it('rejects a size that is not a positive integer', async (t) => {
    let failure: unknown;
    const { response, errors } = await exchange(t, async (request) => {
      try {
        await request.datastream.read(0);
      } catch (error) {
        failure = error;
      }
      return { statuscode: 200, message: await request.datastream.text() };
    }, post('still readable'));
    assert.ok(failure instanceof RangeError, String(failure));
    assert.equal(response.body, 'still readable');
    assert.deepEqual(errors, []);
  });
});

describe('whole-body readers', () => {
  it('text() decodes UTF-8 by default', async (t) => {
    const { response, errors } = await exchange(t, async (request) => ({
      statuscode: 200, message: JSON.stringify(await request.datastream.text()),
    }), post('naïve café ✓'));
    assert.equal(Buffer.from(response.body, 'latin1').toString('utf8'), JSON.stringify('naïve café ✓'));
    assert.deepEqual(errors, []);
  });

  it("text('latin1') decodes the bytes as latin1", async (t) => {
    let decoded = '';
    const { response, errors } = await exchange(t, async (request) => {
      decoded = await request.datastream.text('latin1');
      return { statuscode: 200, message: String(decoded.length) };
    }, post(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0xff])));
    assert.equal(decoded, 'caf\u00e9\u00ff');
    assert.equal(response.body, '5');
    assert.deepEqual(errors, []);
  });

  it('text() of an empty body is the empty string', async (t) => {
    const { response } = await exchange(t, async (request) => ({
      statuscode: 200, message: `[${await request.datastream.text()}]`,
    }), 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(response.body, '[]');
  });

  it('json() parses the body', async (t) => {
    let value: unknown;
    const { response, errors } = await exchange(t, async (request) => {
      value = await request.datastream.json();
      return { statuscode: 200, message: 'ok' };
    }, post('{"a":[1,2,{"b":null}],"c":"ü"}', 'Content-Type: application/json\r\n'));
    assert.deepEqual(value, { a: [1, 2, { b: null }], c: 'ü' });
    assert.equal(response.body, 'ok');
    assert.deepEqual(errors, []);
  });

  it('json() rejects invalid JSON with an HttpError 400, and a callback that lets it propagate answers 400', async (t) => {
    let failure: unknown;
    const { response, errors } = await exchange(t, async (request) => {
      try {
        await request.datastream.json();
      } catch (error) {
        failure = error;
        throw error;
      }
      return { statuscode: 200, message: 'parsed' };
    }, post('{"a": nope}'));
    assert.ok(failure instanceof HttpError);
    assert.equal(failure.status, 400);
    assert.equal(response.status, 400);
    assert.match(response.body, /JSON/);
    assert.deepEqual(errors, [], '4xx errors are the client\'s, not reported');
  });

  it('form() parses urlencoded bodies like querydict', async (t) => {
    let form: unknown;
    const { response, errors } = await exchange(t, async (request) => {
      form = await request.datastream.form();
      return { statuscode: 200, message: 'ok' };
    }, post('name=Ada+Lovelace&tag=a&tag=b&x=%E2%9C%93&bad=%zz', 'Content-Type: application/x-www-form-urlencoded\r\n'));
    assert.deepEqual({ ...(form as object) }, { name: 'Ada Lovelace', tag: ['a', 'b'], x: '✓', bad: '%zz' });
    assert.equal(response.body, 'ok');
    assert.deepEqual(errors, []);
  });

  it("form() gives null for a key without '='", async (t) => {
    let form: unknown;
    await exchange(t, async (request) => {
      form = await request.datastream.form();
      return { statuscode: 204 };
    }, post('a&b=1'));
    assert.deepEqual({ ...(form as object) }, { a: null, b: '1' });
  });

  it('form() keeps __proto__ a plain key', async (t) => {
    let form: Record<string, unknown> = {};
    await exchange(t, async (request) => {
      form = await request.datastream.form();
      return { statuscode: 204 };
    }, post('__proto__[polluted]=1&ok=1'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(form.ok, '1');
  });
});

describe('async iteration', () => {
  it('yields Buffers that add up to the body', async (t) => {
    const body = Buffer.alloc(300 * 1024);
    for (let i = 0; i < body.length; i += 1) body[i] = (i * 7) % 251;
    let count = 0;
    let allBuffers = true;
    let received = Buffer.alloc(0);
    const { response, errors } = await exchange(t, async (request) => {
      const parts: Buffer[] = [];
      for await (const chunk of request.datastream) {
        count += 1;
        if (!Buffer.isBuffer(chunk)) allBuffers = false;
        parts.push(chunk);
      }
      received = Buffer.concat(parts);
      return { statuscode: 200, message: String(received.length) };
    }, post(body));
    assert.equal(response.body, String(body.length));
    assert.ok(received.equals(body));
    assert.equal(allBuffers, true);
    assert.ok(count >= 1);
    assert.deepEqual(errors, []);
  });

  it('over a chunked body', async (t) => {
    const { response, errors } = await exchange(t, async (request) => {
      let text = '';
      for await (const chunk of request.datastream) text += chunk.toString();
      return { statuscode: 200, message: text };
    }, chunkedPost(['one ', 'two ', 'three']));
    assert.equal(response.body, 'one two three');
    assert.deepEqual(errors, []);
  });
});

describe('maxBodySize', () => {
  for (const framing of ['Content-Length', 'chunked'] as const) {
    const big = 'x'.repeat(200);
    const bytes = () => (framing === 'chunked' ? chunkedPost([big.slice(0, 100), big.slice(100)]) : post(big));

    it(`text() rejects a ${framing} body over the limit with an HttpError 413`, async (t) => {
      let failure: unknown;
      const { response, closed, errors } = await exchange(t, async (request) => {
        try {
          await request.datastream.text();
        } catch (error) {
          failure = error;
        }
        return { statuscode: 200, message: 'caught' };
      }, bytes(), { maxBodySize: 150 });
      assert.ok(failure instanceof HttpError, String(failure));
      assert.equal(failure.status, 413);
      assert.equal(response.status, 200);
      assert.equal(response.body, 'caught');
      assert.equal(closed, true);
      assert.deepEqual(errors, []);
    });

    it(`an unhandled 413 for a ${framing} body answers 413`, async (t) => {
      const { response, errors } = await exchange(t, async (request) => ({
        statuscode: 200, message: await request.datastream.text(),
      }), bytes(), { maxBodySize: 150 });
      assert.equal(response.status, 413);
      assert.equal(response.body.includes(big), false);
      assert.deepEqual(errors, []);
    });
  }

  it('read() with no size is bounded by the limit too', async (t) => {
    const { response } = await exchange(t, async (request) => ({
      statuscode: 200, message: await request.datastream.read(),
    }), post('y'.repeat(200)), { maxBodySize: 150 });
    assert.equal(response.status, 413);
  });

  it('accepts a body exactly at the limit', async (t) => {
    const { response } = await exchange(t, async (request) => ({
      statuscode: 200, message: String((await request.datastream.text()).length),
    }), chunkedPost(['z'.repeat(100), 'z'.repeat(50)]), { maxBodySize: 150 });
    assert.equal(response.status, 200);
    assert.equal(response.body, '150');
  });

  it('a 413 after a read(size) counts the bytes already read', async (t) => {
    const { response } = await exchange(t, async (request) => {
      await request.datastream.read(100);
      return { statuscode: 200, message: await request.datastream.text() };
    }, post('w'.repeat(200)), { maxBodySize: 150 });
    assert.equal(response.status, 413);
  });
});

describe('a body that ends early', () => {
  for (const reader of ['text', 'read'] as const) {
    it(`rejects the pending ${reader}() when the client closes mid-body`, async (t) => {
      const sink = errorSink();
      let entered!: () => void;
      const inCallback = new Promise<void>((resolve) => { entered = resolve; });
      let settle!: (outcome: unknown) => void;
      const outcome = new Promise<unknown>((resolve) => { settle = resolve; });
      const { port } = await serve(t, async (request) => {
        const timer = setTimeout(() => settle('still pending'), 1000);
        entered();
        try {
          if (reader === 'text') await request.datastream.text();
          else for (let i = 0; i < 100; i += 1) if ((await request.datastream.read(8)).length === 0) break;
          settle('resolved');
        } catch (error) {
          settle(error);
        } finally {
          clearTimeout(timer);
        }
        return { statuscode: 200, message: 'unreachable' };
      }, { onError: sink.onError });
      const connection = await connectRaw(t, port);
      connection.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b');
      await inCallback;
      await sleep(20);
      connection.socket.destroy();
      const result = await outcome;
      assert.ok(result instanceof Error, `expected a rejection, got ${String(result)}`);
      await sleep(20);
      assert.deepEqual(sink.errors, [], 'a client leaving is not reported as an error');
    });
  }
});

describe('stream, trailers and laziness', () => {
  it('stream is the Node Readable of the body', async (t) => {
    let isReadable = false;
    const { response, errors } = await exchange(t, async (request) => {
      const { stream } = request.datastream;
      isReadable = stream instanceof Readable;
      const parts: Buffer[] = [];
      for await (const chunk of stream) parts.push(chunk as Buffer);
      return { statuscode: 200, message: Buffer.concat(parts) };
    }, post('through the stream'));
    assert.equal(isReadable, true);
    assert.equal(response.body, 'through the stream');
    assert.deepEqual(errors, []);
  });

  it('getTrailers() returns {} when there are none', async (t) => {
    const seen: unknown[] = [];
    const { response, errors } = await exchange(t, async (request) => {
      const body = await request.datastream.text();
      seen.push({ ...(await request.datastream.getTrailers()) });
      return { statuscode: 200, message: body };
    }, post('no trailers'));
    assert.equal(response.body, 'no trailers');
    assert.deepEqual(seen, [{}]);
    assert.deepEqual(errors, []);
  });

  it('getTrailers() on an unread chunked body consumes it and returns {} without trailers', async (t) => {
    let trailers: unknown;
    let after = -1;
    const { response, errors } = await exchange(t, async (request) => {
      trailers = { ...(await request.datastream.getTrailers()) };
      after = (await request.datastream.read(10)).length;
      return { statuscode: 200, message: 'done' };
    }, chunkedPost(['abc']));
    assert.deepEqual(trailers, {});
    assert.equal(after, 0);
    assert.equal(response.body, 'done');
    assert.deepEqual(errors, []);
  });

  it('getTrailers() reads the rest of the body itself', async (t) => {
    let trailers: Record<string, string> = {};
    const { response, errors } = await exchange(t, async (request) => {
      trailers = await request.datastream.getTrailers();
      return { statuscode: 200, message: trailers['content-md5'] ?? 'none' };
    }, chunkedPost(['abc', 'def'], 'Content-MD5: xyz\r\n'));
    assert.equal(response.body, 'xyz');
    assert.equal(trailers['Content-MD5'], 'xyz');
    assert.deepEqual(errors, []);
  });

  it('request.datastream is built only when first read', async (t) => {
    const built: boolean[] = [];
    const { response } = await exchange(t, async (request) => {
      // bodyOf is the library's own record of the DataStream it made for this request.
      built.push(bodyOf(request) !== undefined);
      assert.ok(Object.keys(request).includes('datastream'), 'an own field before it is read');
      const first = request.datastream;
      built.push(bodyOf(request) !== undefined);
      assert.equal(request.datastream, first, 'the same DataStream every time');
      assert.equal(Object.getOwnPropertyDescriptor(request, 'datastream')?.value, first, 'a plain data property once read');
      return { statuscode: 200, message: await first.text() };
    }, post('lazy'));
    assert.equal(response.body, 'lazy');
    assert.deepEqual(built, [false, true]);
  });
});
