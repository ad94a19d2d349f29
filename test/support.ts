/**
 * Shared test plumbing: real servers on 127.0.0.1 port 0, stopped by the
 * test that started them, and raw sockets for traffic a normal client would
 * fix up.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { getAddress, registerCallback, stopCallback, listCallbacks } from '../lib/index.js';
import type { Callback, ServerOptions } from '../lib/index.js';

export interface Served {
  id: number;
  port: number;
  url: string;
  stop: () => Promise<void>;
}

/** Registers `callback` on 127.0.0.1 port 0 and stops it when the test ends. */
export async function serve(t: TestContext, callback: Callback, options?: ServerOptions): Promise<Served> {
  const id = await registerCallback(['127.0.0.1', 0], callback, options);
  const { port } = getAddress(id);
  const stop = async () => {
    if (listCallbacks().includes(id)) await stopCallback(id, { timeout: 0 });
  };
  t.after(stop);
  const scheme = options?.tls ? 'https' : 'http';
  return { id, port, url: `${scheme}://127.0.0.1:${port}`, stop };
}

export interface RawOptions {
  /** Resolve after this long without new bytes (the server may keep the connection open). Default 500 ms. */
  idleMs?: number;
  /** Half-close our side after writing. Default false. */
  end?: boolean;
}

/**
 * Sends `bytes` on a fresh connection and collects everything the server
 * sends until it closes the connection or stays silent for `idleMs`.
 */
export function rawRequest(port: number, bytes: string | Buffer, options: RawOptions = {}): Promise<{ text: string; closed: boolean }> {
  const idleMs = options.idleMs ?? 500;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), idleMs);
    };
    socket.on('data', (chunk) => { chunks.push(chunk); arm(); });
    socket.on('close', () => finish(true));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish(true);
      else reject(error);
    });
    socket.on('connect', () => {
      if (options.end) socket.end(bytes); else socket.write(bytes);
      arm();
    });
  });
}

/** Splits a raw HTTP/1.x response text into its status line, header lines and body. */
export function parseRaw(text: string): { statusLine: string; status: number; headers: Record<string, string>; body: string } {
  const split = text.indexOf('\r\n\r\n');
  const head = split === -1 ? text : text.slice(0, split);
  const body = split === -1 ? '' : text.slice(split + 4);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { statusLine, status: Number(statusLine.split(' ')[1]), headers, body };
}

/** Counts the HTTP status lines in a raw transcript (responses, including 100 Continue). */
export function statusLines(text: string): string[] {
  return text.match(/HTTP\/\d\.\d \d{3}[^\r\n]*/g) ?? [];
}

/** A self-signed certificate for 127.0.0.1/localhost, made with openssl for this test run. */
export function makeCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'seattle-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Collects what `onError` receives, and keeps it off stderr during tests. */
export function errorSink(): { errors: Error[]; onError: (error: Error) => void } {
  const errors: Error[] = [];
  return { errors, onError: (error: Error) => { errors.push(error); } };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Blocks the event loop for `ms`, as a callback that computes without
 * yielding does: for the tests of what a blocked server must not blame on
 * its clients or other callbacks.
 */
export function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

export interface RawConnection {
  socket: net.Socket;
  /** Everything received so far, as latin1 text. */
  readonly text: string;
  /** True once the server has closed (or reset) the connection. */
  readonly closed: boolean;
  /** Resolves true once the received text matches `pattern`, false when the connection closes first or `timeoutMs` passes. */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<boolean>;
  /** Resolves true once the connection is closed, false after `timeoutMs`. */
  waitClose(timeoutMs?: number): Promise<boolean>;
}

/**
 * Opens a raw connection that the test drives step by step (write, wait
 * for a pattern, write more). It is destroyed when the test ends.
 */
export function connectRaw(t: TestContext, port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let text = '';
    let closed = false;
    const waiters = new Set<() => void>();
    const wake = () => { for (const waiter of [...waiters]) waiter(); };
    t.after(() => { socket.destroy(); });
    socket.on('data', (chunk: Buffer) => { chunks.push(chunk); text = Buffer.concat(chunks).toString('latin1'); wake(); });
    socket.on('close', () => { closed = true; wake(); });
    socket.on('error', () => { /* a reset counts as closed; 'close' follows */ });
    const until = (done: () => boolean, timeoutMs: number) => new Promise<boolean>((settle) => {
      if (done()) { settle(true); return; }
      const check = () => {
        if (done()) { finish(true); return; }
        if (closed) finish(false);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (value: boolean) => { clearTimeout(timer); waiters.delete(check); settle(value); };
      waiters.add(check);
    });
    const connection: RawConnection = {
      socket,
      get text() { return text; },
      get closed() { return closed; },
      waitFor: (pattern, timeoutMs = 1000) =>
        until(() => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)), timeoutMs),
      waitClose: (timeoutMs = 1000) => until(() => closed, timeoutMs),
    };
    socket.once('connect', () => resolve(connection));
    socket.once('error', reject);
  });
}

export interface AskOptions {
  method?: string;
  /** The HTTP version of the request line. Default '1.1'. */
  version?: string;
  headers?: Record<string, string>;
  /** Sent with a matching Content-Length. */
  body?: string | Buffer;
  /** How long a silence ends the wait (see rawRequest); raise it for a callback that takes its time. */
  idleMs?: number;
}

/**
 * One request with `Connection: close` on a fresh raw connection; the
 * answer split by `parseRaw`, with `raw` the exact bytes as latin1 text.
 */
export async function ask(port: number, target = '/', options: AskOptions = {}) {
  let head = `${options.method ?? 'GET'} ${target} HTTP/${options.version ?? '1.1'}\r\nHost: 127.0.0.1\r\nConnection: close\r\n`;
  for (const [name, value] of Object.entries(options.headers ?? {})) head += `${name}: ${value}\r\n`;
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
  if (options.body !== undefined) head += `Content-Length: ${body.length}\r\n`;
  const { text, closed } = await rawRequest(port, Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]), { idleMs: options.idleMs });
  return { raw: text, closed, ...parseRaw(text) };
}

/** Decodes a chunked body given as latin1 text; `complete` is false when the last (empty) chunk never came. */
export function decodeChunked(text: string): { body: string; complete: boolean } {
  let body = '';
  let at = 0;
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at);
    if (lineEnd === -1) return { body, complete: false };
    const size = parseInt(text.slice(at, lineEnd), 16);
    if (!Number.isInteger(size)) return { body, complete: false };
    if (size === 0) return { body, complete: text.slice(lineEnd + 2).startsWith('\r\n') };
    const data = text.slice(lineEnd + 2, lineEnd + 2 + size);
    body += data;
    if (data.length < size || text.slice(lineEnd + 2 + size, lineEnd + 4 + size) !== '\r\n') return { body, complete: false };
    at = lineEnd + 4 + size;
  }
}

/** Captures the library's own stderr lines for the rest of the test; everything else passes through. */
export function captureStderr(t: TestContext): string[] {
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (String(chunk).startsWith('seattle-httpserver')) { lines.push(String(chunk)); return true; }
    return (write as (...args: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  t.after(() => { process.stderr.write = write; });
  return lines;
}

