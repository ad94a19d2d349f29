/**
 * Limits on what one connection can ask of the server: pipelined requests
 * in the callback at once, requests per connection. (Header bytes, header
 * count, URL length and body size are in hostile.test.ts and
 * datastream.test.ts; connection counts in connection.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectRaw, parseRaw, rawRequest, serve, sleep, statusLines } from './support.js';

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

test('one write of 2,000 pipelined GETs: at most maxPipelinedRequests callbacks at once, every answer in order', async (t) => {
  let running = 0;
  let mostAtOnce = 0;
  let calls = 0;
  const { port } = await serve(t, async (request) => {
    calls += 1;
    running += 1;
    mostAtOnce = Math.max(mostAtOnce, running);
    await sleep(1);
    running -= 1;
    return { statuscode: 200, message: `<${request.path.slice(1)}>` };
  }, { maxPipelinedRequests: 4, maxRequestsPerConnection: 0 });
  const count = 2000;
  const connection = await connectRaw(t, port);
  connection.socket.write(Array.from({ length: count }, (_, i) => get(`/${i}`)).join(''));
  assert.equal(await connection.waitFor(`<${count - 1}>`, 20_000), true, `answered ${statusLines(connection.text).length}`);
  assert.equal(calls, count);
  assert.ok(mostAtOnce <= 4, `${mostAtOnce} callbacks ran at once`);
  assert.ok(mostAtOnce >= 2, 'pipelined requests still overlap up to the cap');
  const order = [...connection.text.matchAll(/<(\d+)>/g)].map((match) => Number(match[1]));
  assert.deepEqual(order, Array.from({ length: count }, (_, i) => i));
});

test('requests waiting their turn are not read ahead: a client flooding pipelined requests is held back by TCP', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let calls = 0;
  const { port } = await serve(t, async () => {
    calls += 1;
    await gate;
    return { statuscode: 200, message: 'x' };
  }, { maxPipelinedRequests: 2, maxRequestsPerConnection: 0, callbackTimeout: 0 });
  const connection = await connectRaw(t, port);
  // 40 MB of pipelined GETs: far more than socket buffers hold.
  const batch = get('/flood').repeat(10_000);
  let written = 0;
  const deadline = performance.now() + 3000;
  while (written < 40e6 && performance.now() < deadline) {
    if (!connection.socket.write(batch)) {
      // The sleep often wins (the server is deliberately not reading): the drain listener goes with it.
      let onDrain!: () => void;
      const drained = new Promise<void>((resolve) => { onDrain = resolve; connection.socket.once('drain', onDrain); });
      await Promise.race([drained, sleep(200)]);
      connection.socket.off('drain', onDrain);
    }
    written += batch.length;
    if (connection.socket.writableLength > 8e6) break;
  }
  await sleep(300);
  assert.equal(calls, 2, 'only the first two reached the callback');
  assert.ok(connection.socket.writableLength > 1e6, `the server stopped reading (${connection.socket.writableLength} bytes wait on the client)`);
  release();
  connection.socket.destroy();
});

test('maxRequestsPerConnection: the last allowed response says Connection: close and the connection closes', async (t) => {
  let calls = 0;
  const { port } = await serve(t, () => { calls += 1; return { statuscode: 200, message: 'ok' }; }, { maxRequestsPerConnection: 3 });
  const connection = await connectRaw(t, port);
  for (let i = 0; i < 3; i += 1) {
    connection.socket.write(get(`/${i}`));
    assert.equal(await connection.waitFor(new RegExp(`(HTTP/1\\.1 200 OK[\\s\\S]*?ok){${i + 1}}`)), true);
  }
  assert.equal(await connection.waitClose(1000), true);
  const heads = connection.text.split('HTTP/1.1 ').slice(1);
  assert.equal(heads.length, 3);
  assert.doesNotMatch(heads[0]!, /Connection: close/i);
  assert.match(heads[2]!, /Connection: close/i);
  assert.equal(calls, 3);
});

test('maxRequestsPerConnection: requests pipelined past the limit never reach the callback', async (t) => {
  let calls = 0;
  const { port } = await serve(t, () => { calls += 1; return { statuscode: 200, message: 'ok' }; }, { maxRequestsPerConnection: 2 });
  const { text, closed } = await rawRequest(port, get('/1') + get('/2') + get('/3') + get('/4'), { idleMs: 1000 });
  assert.equal(closed, true);
  assert.deepEqual(statusLines(text).slice(0, 2), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
  assert.equal(calls, 2);
  assert.match(parseRaw(text).headers.connection ?? '', /keep-alive/i);
});
