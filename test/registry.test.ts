import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import {
  KeyError, ValueError, getAddress, httpserver_registercallback, httpserver_stopcallback,
  listCallbacks, registerCallback, stopAllCallbacks, stopCallback,
} from '../lib/index.js';
import { rawRequest, serve, sleep } from './support.js';

const hello = () => ({ statuscode: 200, message: 'hello' });

function assertTypeError(error: unknown, mentions: string): true {
  assert.ok(error instanceof TypeError, `expected a TypeError, got ${String(error)}`);
  assert.equal((error as { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
  assert.match((error as Error).message, new RegExp(mentions));
  assert.match((error as Error).message, /Received/);
  return true;
}

function assertValueError(error: unknown, code: string, mentions: string): true {
  assert.ok(error instanceof ValueError, `expected a ValueError, got ${String(error)}`);
  assert.ok(error instanceof RangeError);
  assert.equal(error.name, 'ValueError');
  assert.equal(error.code, code);
  assert.match(error.message, new RegExp(mentions));
  return true;
}

test('registerCallback resolves to positive, increasing ids that are never reused', async (t) => {
  const first = await serve(t, hello);
  const second = await serve(t, hello);
  assert.ok(Number.isInteger(first.id) && first.id > 0);
  assert.ok(second.id > first.id);
  await first.stop();
  const third = await serve(t, hello);
  assert.ok(third.id > second.id);
  assert.deepEqual(listCallbacks().filter((id) => id >= first.id), [second.id, third.id]);
});

test('getAddress reports the port the OS chose for port 0, and the host bound', async (t) => {
  const served = await serve(t, hello);
  const address = getAddress(served.id);
  assert.equal(address.host, '127.0.0.1');
  assert.ok(address.port > 0 && address.port <= 65535);
  const response = await fetch(`http://127.0.0.1:${address.port}/`);
  assert.equal(await response.text(), 'hello');
});

test('wrong argument types reject with TypeError ERR_INVALID_ARG_TYPE and start nothing', async () => {
  const before = listCallbacks();
  const cases: Array<[unknown[], string]> = [
    [['127.0.0.1:80', hello], 'address'],
    [[['127.0.0.1'], hello], 'address'],
    [[['127.0.0.1', 0, 1], hello], 'address'],
    [[null, hello], 'address'],
    [[[127, 0], hello], 'host'],
    [[['127.0.0.1', '80'], hello], 'port'],
    [[['127.0.0.1', 1.5], hello], 'port'],
    [[['127.0.0.1', Number.NaN], hello], 'port'],
    [[['127.0.0.1', 0], 'not a function'], 'callback'],
    [[['127.0.0.1', 0], hello, 'fast'], 'options'],
    [[['127.0.0.1', 0], hello, []], 'options'],
    [[['127.0.0.1', 0], hello, { maxBodySize: '1mb' }], 'maxBodySize'],
    [[['127.0.0.1', 0], hello, { exposeErrors: 'yes' }], 'exposeErrors'],
    [[['127.0.0.1', 0], hello, { onError: 'stderr' }], 'onError'],
    [[['127.0.0.1', 0], hello, { log: 'yes' }], 'log'],
    [[['127.0.0.1', 0], hello, { tls: { cert: 1, key: 'x' } }], 'tls.cert'],
    [[['127.0.0.1', 0], hello, { headers: { 'X-A': {} } }], 'headers'],
  ];
  for (const [args, mentions] of cases) {
    await assert.rejects(
      (registerCallback as (...a: unknown[]) => Promise<number>)(...args),
      (error) => assertTypeError(error, mentions),
      `registerCallback(${JSON.stringify(args[0])}, ..., ${JSON.stringify(args[2])})`,
    );
  }
  assert.deepEqual(listCallbacks(), before);
});

test('values out of range reject with ValueError (a RangeError) and the right code', async () => {
  const before = listCallbacks();
  const cases: Array<[unknown[], string, string]> = [
    [[['127.0.0.1', -1], hello], 'ERR_OUT_OF_RANGE', 'port'],
    [[['127.0.0.1', 65536], hello], 'ERR_OUT_OF_RANGE', 'port'],
    [[['127.0.0.1', 0], hello, { maxBodySize: 0 }], 'ERR_OUT_OF_RANGE', 'maxBodySize'],
    [[['127.0.0.1', 0], hello, { callbackTimeout: -5 }], 'ERR_OUT_OF_RANGE', 'callbackTimeout'],
    [[['127.0.0.1', 0], hello, { cors: 'maybe' }], 'ERR_INVALID_ARG_VALUE', "'off', 'on', 'auto'"],
    [[['127.0.0.1', 0], hello, { maxBodysize: 10 }], 'ERR_INVALID_ARG_VALUE', 'Did you mean "maxBodySize"'],
    [[['127.0.0.1', 0], hello, { headers: { 'Bad Name': 'x' } }], 'ERR_INVALID_ARG_VALUE', 'Bad Name'],
    [[['127.0.0.1', 0], hello, { headers: { 'X-A': 'a\r\nb' } }], 'ERR_INVALID_ARG_VALUE', 'X-A'],
    [[['127.0.0.1', 0], hello, { headersTimeout: 5000, requestTimeout: 1000 }], 'ERR_OUT_OF_RANGE', 'headersTimeout'],
  ];
  for (const [args, code, mentions] of cases) {
    await assert.rejects(
      (registerCallback as (...a: unknown[]) => Promise<number>)(...args),
      (error) => assertValueError(error, code, mentions),
      JSON.stringify(args[2] ?? args[0]),
    );
  }
  assert.deepEqual(listCallbacks(), before);
});

test('a port in use rejects with EADDRINUSE, host:port in the message, and the way out (port 0)', async (t) => {
  const served = await serve(t, hello);
  await assert.rejects(registerCallback(['127.0.0.1', served.port], hello), (error: NodeJS.ErrnoException) => {
    assert.equal(error.code, 'EADDRINUSE');
    assert.ok(error.message.includes(`127.0.0.1:${served.port}`), error.message);
    assert.match(error.message, /another server has this port: stop it, or pass port 0 for any free port/);
    return true;
  });
});

test('an address that is not on this machine rejects with EADDRNOTAVAIL', async () => {
  // 192.0.2.1 is TEST-NET-1: binding fails locally, nothing is sent anywhere.
  await assert.rejects(registerCallback(['192.0.2.1', 0], hello), (error: NodeJS.ErrnoException) => {
    assert.equal(error.code, 'EADDRNOTAVAIL');
    assert.match(error.message, /192\.0\.2\.1:0/);
    return true;
  });
});

test('stopCallback: unknown and already-stopped ids reject with KeyError; non-integers with TypeError', async (t) => {
  const served = await serve(t, hello);
  await stopCallback(served.id);
  for (const id of [served.id, 999_999_999]) {
    await assert.rejects(stopCallback(id), (error: unknown) => {
      assert.ok(error instanceof KeyError);
      assert.equal(error.name, 'KeyError');
      assert.equal(error.code, 'ERR_UNKNOWN_CALLBACK_ID');
      assert.match(error.message, new RegExp(String(id)));
      return true;
    });
  }
  for (const id of ['1', 1.5, null]) {
    await assert.rejects(stopCallback(id as number), (error) => assertTypeError(error, 'id'));
  }
  assert.throws(() => getAddress(served.id), KeyError);
  await assert.rejects(stopCallback(1, { timeout: -1 } as never), (error: unknown) => error instanceof KeyError || error instanceof RangeError);
});

test('stopCallback removes the id at once, so a concurrent second stop rejects', async (t) => {
  const served = await serve(t, hello);
  const first = stopCallback(served.id);
  await assert.rejects(stopCallback(served.id), KeyError);
  await first;
});

test('stopCallback with an idle keep-alive client resolves well under a second and frees the port', async (t) => {
  const served = await serve(t, hello);
  // A keep-alive client that got its answer and now sits idle on the connection.
  const idle = net.connect(served.port, '127.0.0.1');
  t.after(() => idle.destroy());
  const answered = new Promise<string>((resolve) => idle.once('data', (chunk) => resolve(chunk.toString())));
  idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const answer = await answered;
  assert.match(answer, /^HTTP\/1\.1 200 OK\r\n[\s\S]*keep-alive[\s\S]*\r\n\r\nhello$/i);
  const closed = new Promise((resolve) => idle.once('close', resolve));
  idle.on('error', () => {});

  const started = performance.now();
  await stopCallback(served.id); // default timeout 5000: idle sockets must not wait for it
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 500, `stop took ${elapsed.toFixed(0)} ms`);
  await closed;

  // The port is free at once: bind it again.
  const again = net.createServer();
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.listen(served.port, '127.0.0.1', resolve);
  });
  await new Promise((resolve) => again.close(resolve));
  // And nothing answers there any more.
  await assert.rejects(fetch(`${served.url}/`));
});

test('a request in flight when stop begins finishes, with Connection: close', async (t) => {
  let entered!: () => void;
  const inCallback = new Promise<void>((resolve) => { entered = resolve; });
  let abortedDuringStop = false;
  const served = await serve(t, async (request) => {
    entered();
    await sleep(300);
    abortedDuringStop = request.signal.aborted;
    return { statuscode: 200, message: 'finished' };
  });
  const pending = rawRequest(served.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 2000 });
  await inCallback;
  const started = performance.now();
  const stopped = stopCallback(served.id);
  const { text, closed } = await pending;
  await stopped;
  const elapsed = performance.now() - started;
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /\r\nConnection: close\r\n/i);
  assert.ok(text.endsWith('\r\n\r\nfinished'));
  assert.equal(abortedDuringStop, true, 'the signal tells the callback the listener is stopping');
  assert.equal(closed, true, 'the server closes the connection after the response');
  assert.ok(elapsed >= 200 && elapsed < 2000, `stop took ${elapsed.toFixed(0)} ms`);
});

test('stopCallback timeout 0 cuts requests in flight at once and aborts their signal', async (t) => {
  let signal!: AbortSignal;
  let entered!: () => void;
  const inCallback = new Promise<void>((resolve) => { entered = resolve; });
  const served = await serve(t, (request) => {
    signal = request.signal;
    entered();
    return new Promise(() => {}); // never answers
  });
  const pending = rawRequest(served.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 3000 });
  await inCallback;
  const started = performance.now();
  await stopCallback(served.id, { timeout: 0 });
  const { text, closed } = await pending;
  assert.ok(performance.now() - started < 1000);
  assert.equal(text, '');
  assert.equal(closed, true);
  assert.equal(signal.aborted, true);
});

test('stopCallback gives a stuck request exactly its timeout, then destroys it', async (t) => {
  let entered!: () => void;
  const inCallback = new Promise<void>((resolve) => { entered = resolve; });
  const served = await serve(t, () => {
    entered();
    return new Promise(() => {});
  });
  const pending = rawRequest(served.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 5000 });
  await inCallback;
  const started = performance.now();
  await stopCallback(served.id, { timeout: 250 });
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 200 && elapsed < 1500, `stop took ${elapsed.toFixed(0)} ms`);
  assert.equal((await pending).closed, true);
});

test('stopAllCallbacks stops every listener', async () => {
  const ids = await Promise.all([1, 2, 3].map(() => registerCallback(['127.0.0.1', 0], hello)));
  const ports = ids.map((id) => getAddress(id).port);
  await stopAllCallbacks();
  assert.deepEqual(listCallbacks().filter((id) => ids.includes(id)), []);
  for (const port of ports) await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
});

test('the Seattle spellings are the same functions', () => {
  assert.equal(httpserver_registercallback, registerCallback);
  assert.equal(httpserver_stopcallback, stopCallback);
});

test('a process that registers, serves keep-alive requests and stops exits by itself', async () => {
  const script = `
    const { registerCallback, stopCallback, getAddress } = require(${JSON.stringify(require.resolve('../lib/index.js'))});
    const http = require('node:http');
    (async () => {
      const id = await registerCallback(['127.0.0.1', 0], async (request) => ({ statuscode: 200, message: request.path }));
      const { port } = getAddress(id);
      const agent = new http.Agent({ keepAlive: true });
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve, reject) => http.get({ port, host: '127.0.0.1', path: '/' + i, agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
      }
      const response = await fetch('http://127.0.0.1:' + port + '/fetch');
      await response.text();
      await stopCallback(id);
      console.log('stopped');
    })();
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const started = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 10_000);
    child.on('exit', (exitCode) => { clearTimeout(timer); resolve(exitCode); });
  });
  assert.equal(code, 0, `child output: ${output}`);
  assert.match(output, /stopped/);
  // Exiting soon after stop proves no handle (socket, timer, interval) was left behind.
  assert.ok(performance.now() - started < 8000);
});

test('a hundred start-request-stop cycles leave no listener and no handle behind', async () => {
  const handlesBefore = process.getActiveResourcesInfo().filter((name) => name !== 'Timeout').length;
  const started = performance.now();
  for (let i = 0; i < 100; i++) {
    const id = await registerCallback(['127.0.0.1', 0], (request) => ({ statuscode: 200, message: request.path }));
    const response = await fetch(`http://127.0.0.1:${getAddress(id).port}/${i}`);
    assert.equal(await response.text(), `/${i}`);
    await stopCallback(id);
  }
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 20_000, `100 cycles took ${elapsed.toFixed(0)} ms`);
  assert.deepEqual(listCallbacks(), []);
  await sleep(50);
  const handlesAfter = process.getActiveResourcesInfo().filter((name) => name !== 'Timeout').length;
  assert.ok(handlesAfter <= handlesBefore, `handles before ${handlesBefore}, after ${handlesAfter}: ${process.getActiveResourcesInfo().join(', ')}`);
});

test('stopCallback aborts request.signal at once, and a stream that listens to it ends quickly', async (t) => {
  let entered!: () => void;
  const streaming = new Promise<void>((resolve) => { entered = resolve; });
  const served = await serve(t, (request) => ({
    statuscode: 200,
    headers: { 'Content-Type': 'text/event-stream' },
    message: (async function* () {
      entered();
      // An endless event stream that ends when the signal says so.
      while (!request.signal.aborted) {
        yield 'data: tick\n\n';
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      yield `data: bye (${(request.signal.reason as Error).message})\n\n`;
    })(),
  }));
  const pending = rawRequest(served.port, 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 3000 });
  await streaming;
  await sleep(50);
  const started = performance.now();
  await stopCallback(served.id); // default timeout 5000: the stream ends long before
  const elapsed = performance.now() - started;
  const { text, closed } = await pending;
  assert.ok(elapsed < 1000, `stop took ${elapsed.toFixed(0)} ms`);
  assert.match(text, /data: tick\n\n/);
  assert.match(text, /data: bye \(The listener is stopping\)\n\n\r\n0\r\n\r\n$/);
  assert.equal(closed, true);
});
