/**
 * Regression (repro r3): a file the server cannot open. It used to get a
 * 200 head (HEAD) or a reply with no status line at all (GET), logged as
 * 200. Now both methods get a real refusal before any head is sent: 403 for
 * a file the server's user may not read, 503 with Retry-After when the
 * process is out of file descriptors.
 *
 * Both conditions are made for real in a child process: the tests run as
 * root, whom mode 000 does not stop, so the server runs as nobody (uid
 * 65534) under setpriv; for EMFILE it runs under a low descriptor limit
 * (prlimit) and uses up its descriptors itself once it listens.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ROOT } from '../support-process.js';
import { connectRaw, parseRaw } from '../support.js';

/** The child: serveDirectory on argv[2]; with `exhaust`, it then opens /dev/null until EMFILE and frees one slot for the client's socket. */
const SERVER = `
import { openSync, closeSync } from 'node:fs';
const { registerCallback, getAddress, serveDirectory } = await import(${JSON.stringify(join(ROOT, 'dist', 'lib', 'index.mjs'))});
const id = await registerCallback(['127.0.0.1', 0], serveDirectory({ root: process.argv[2] }), { onError: () => {} });
const held = [];
if (process.argv[3] === 'exhaust') {
  for (;;) {
    try { held.push(openSync('/dev/null', 'r')); } catch (error) { if (error.code === 'EMFILE') break; throw error; }
  }
  closeSync(held.pop());
}
process.stdout.write('ready ' + getAddress(id).port + ' ' + held.length + '\\n');
`;

function tempDir(t: TestContext): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seattle-unreadable-')));
  // nobody must reach the directory and the server script in it.
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `command` (ending with node and the server script) and resolves with the port it listens on. */
async function startChild(t: TestContext, command: string[]): Promise<number> {
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /ready (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before it was ready: ${err}`)));
  });
}

/** HEAD then GET of `target` on one kept-alive connection; both answers parsed. */
async function headThenGet(t: TestContext, port: number, target: string) {
  const connection = await connectRaw(t, port);
  connection.socket.write(`HEAD ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.ok(await connection.waitFor(/\r\n\r\n/, 5000), `an answer to HEAD: ${JSON.stringify(connection.text)}`);
  const head = parseRaw(connection.text);
  const afterHead = connection.text.length;
  connection.socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  assert.ok(await connection.waitClose(5000), 'the GET answer ends');
  const get = parseRaw(connection.text.slice(afterHead));
  return { head, get };
}

test('a file the server may not read: 403 for HEAD and GET, with a status line, not 200 or an empty reply', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'server.mjs'), SERVER);
  writeFileSync(join(dir, 'locked.bin'), Buffer.alloc(5000, 7));
  chmodSync(join(dir, 'locked.bin'), 0o000);
  writeFileSync(join(dir, 'open.txt'), 'readable\n');
  chmodSync(join(dir, 'open.txt'), 0o644);
  const port = await startChild(t, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(dir, 'server.mjs'), dir]);

  const locked = await headThenGet(t, port, '/locked.bin');
  assert.equal(locked.head.statusLine, 'HTTP/1.1 403 Forbidden');
  assert.equal(locked.get.statusLine, 'HTTP/1.1 403 Forbidden');
  assert.notEqual(locked.get.headers['content-length'], '5000');
  assert.doesNotMatch(locked.get.body, /locked|\/tmp/, 'no path in the body');

  // The same server still serves what it can read.
  const readable = await headThenGet(t, port, '/open.txt');
  assert.equal(readable.head.status, 200);
  assert.equal(readable.get.status, 200);
  assert.equal(readable.get.body, 'readable\n');
});

test('a server out of file descriptors answers 503 with Retry-After for HEAD and GET', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'server.mjs'), SERVER);
  writeFileSync(join(dir, 'file.txt'), 'content\n');
  const port = await startChild(t, ['prlimit', '--nofile=256:256', process.execPath, join(dir, 'server.mjs'), dir, 'exhaust']);

  const { head, get } = await headThenGet(t, port, '/file.txt');
  assert.equal(head.statusLine, 'HTTP/1.1 503 Service Unavailable');
  assert.match(head.headers['retry-after'] ?? '', /^\d+$/);
  assert.equal(get.statusLine, 'HTTP/1.1 503 Service Unavailable');
  assert.match(get.headers['retry-after'] ?? '', /^\d+$/);
  assert.doesNotMatch(get.body, /content/);
});
