import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { asError } from './errors.js';
import type { FileLike } from './types.js';

/** How a response `message` will be framed: no body, bytes of known length, or a stream. */
export type Body =
  | { kind: 'none' }
  | { kind: 'bytes'; data: string | Uint8Array; length: number }
  | { kind: 'stream'; source: unknown };

const FILE_CHUNK = 64 * 1024;

/** Sorts a `message` into a body kind, or returns why it cannot be sent. */
export function classifyMessage(message: unknown): Body | string {
  if (message === undefined || message === null) return { kind: 'none' };
  if (typeof message === 'string') return { kind: 'bytes', data: message, length: Buffer.byteLength(message) };
  if (message instanceof Uint8Array) return { kind: 'bytes', data: message, length: message.byteLength };
  if (typeof message === 'object' || typeof message === 'function') {
    if (isNodeReadable(message) || isWebStream(message) || isAsyncIterable(message) || isFileLike(message)) {
      return { kind: 'stream', source: message };
    }
    if (Array.isArray(message)) {
      return 'an array (join the parts into one string, or return an async iterable)';
    }
    return 'an object (to send JSON, return json(value) or JSON.stringify it)';
  }
  return `type ${typeof message} (${String(message)}); convert it with String()`;
}

/** A Node Readable over any streaming message kind, producing Buffers or strings. */
export function openStream(source: unknown): Readable {
  if (isNodeReadable(source)) return source;
  if (isWebStream(source)) return Readable.fromWeb(source);
  if (isAsyncIterable(source)) return Readable.from(failingWithErrors(source), { objectMode: false });
  return readFileLike(source as FileLike);
}

/**
 * The same iteration, with anything thrown turned into an Error: a stream
 * destroyed with `undefined` (`throw undefined` in a generator) looks like a
 * client that left, and the failure would go unreported.
 */
async function* failingWithErrors<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* source;
  } catch (error) {
    throw asError(error);
  }
}

/**
 * Releases a message that will not be sent (HEAD, a rejected response, a
 * callback that timed out): file-likes are closed, streams destroyed.
 */
export function discardMessage(message: unknown): void {
  try {
    if (isNodeReadable(message)) message.destroy();
    else if (isWebStream(message)) message.cancel().catch(() => {});
    else if (isAsyncIterable(message)) {
      const iterator = message[Symbol.asyncIterator]();
      void Promise.resolve(iterator.return?.()).catch(() => {});
    } else if (isFileLike(message)) closeFileLike(message);
  } catch {
    // Releasing is best effort: the response has already been decided.
  }
}

/**
 * Passes bytes through, failing the stream when it carries more or fewer
 * bytes than the `Content-Length` the callback declared: a wrong length
 * would corrupt the next response on a keep-alive connection.
 */
export function enforceLength(declared: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      seen += chunk.length;
      if (seen > declared) done(new Error(`The body is longer than its Content-Length (${declared} bytes)`));
      else done(null, chunk);
    },
    flush(done: TransformCallback) {
      if (seen < declared) done(new Error(`The body ended after ${seen} of its Content-Length (${declared} bytes)`));
      else done();
    },
  });
}

function readFileLike(file: FileLike): Readable {
  return new Readable({
    highWaterMark: FILE_CHUNK,
    read() {
      Promise.resolve()
        .then(() => file.read(FILE_CHUNK))
        .then((chunk) => {
          if (typeof chunk === 'string') this.push(chunk.length === 0 ? null : Buffer.from(chunk));
          else if (chunk instanceof Uint8Array) this.push(chunk.byteLength === 0 ? null : chunk);
          else this.destroy(new TypeError(`The message's read() must return a string or bytes, not ${typeof chunk}`));
        })
        // A read() that throws or rejects, with anything; or a chunk that cannot even be inspected (a hostile Proxy).
        .catch((error: unknown) => this.destroy(asError(error)));
    },
    destroy(error, done) {
      closeFileLike(file);
      done(error);
    },
  });
}

function closeFileLike(file: FileLike): void {
  if (typeof file.close !== 'function') return;
  try {
    void Promise.resolve(file.close()).catch(() => {});
  } catch {
    // A close() that throws has still been called, which is all we owe it.
  }
}

/** A Node Readable, or a stream built on the same machinery (readable-stream, another copy of Node's). */
function isNodeReadable(value: unknown): value is Readable {
  return value instanceof Readable || (
    typeof value === 'object' && value !== null &&
    typeof (value as Readable).pipe === 'function' && typeof (value as Readable).on === 'function' &&
    typeof (value as Readable).read === 'function' && typeof (value as Readable).destroy === 'function' &&
    typeof (value as { _readableState?: unknown })._readableState === 'object'
  );
}

/** A WHATWG ReadableStream (fetch bodies, web streams): Node can only adapt the real thing. */
function isWebStream(value: unknown): value is ReadableStream {
  return value instanceof globalThis.ReadableStream;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<string | Uint8Array> {
  return typeof value === 'object' && value !== null &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

function isFileLike(value: unknown): value is FileLike {
  return typeof value === 'object' && value !== null && typeof (value as FileLike).read === 'function';
}
