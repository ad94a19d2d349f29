import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { pipeline, type Readable } from 'node:stream';
import { onConnectionClose } from './connection.js';
import { discardMessage, enforceLength, openStream } from './response-body.js';
import type { PreparedResponse } from './response-validate.js';
import type { OutgoingHeaderValue } from './types.js';

export interface WriteOptions {
  /** HEAD: send the head that GET would get, without the body. */
  isHead: boolean;
  /** Close the connection after this response whatever the callback said. */
  close: boolean;
  /** A body stream failed after the head was sent; the connection is destroyed. */
  onBodyError: (error: Error) => void;
}

/** Statuses that never carry a body (RFC 9110, section 6.4.1). */
const BODILESS = new Set([204, 304]);

/** Whether the response's body goes on the wire: not for HEAD, 204 or 304. */
export function sendsBody(response: PreparedResponse, isHead: boolean): boolean {
  return !isHead && !BODILESS.has(response.status);
}

/**
 * Puts a validated response on the wire. HTTP/1.1 goes through Node's own
 * `ServerResponse` (keep-alive, chunked encoding, pipelining order); 1.0 and
 * 0.9 answers are written to the socket directly, because Node always
 * writes an `HTTP/1.1` status line, and they close the connection anyway.
 *
 * Resolves with the number of body bytes sent, or `undefined` when the
 * connection went away first.
 */
export function writeResponse(res: ServerResponse, response: PreparedResponse, options: WriteOptions): Promise<number | undefined> {
  const withBody = sendsBody(response, options.isHead);
  if (!withBody) discardMessage(response.body.kind === 'stream' ? response.body.source : undefined);
  // Opened before a byte is written: a message that cannot even be opened throws here, in time for a clean 500.
  const stream = withBody && response.body.kind === 'stream' ? openStream(response.body.source) : undefined;
  return response.version === '1.1'
    ? writeWithNode(res, response, stream, options)
    : writeToSocket(res, response, withBody, stream, options);
}

/**
 * The fast path of most answers: an HTTP/1.1 response whose body is a
 * string, bytes or nothing, handed to Node at once, with no promise and no
 * listener. Returns the number of body bytes; whether they arrived is for
 * the caller to learn when the response closes (`res.writableFinished`).
 */
export function writeKnownBody(res: ServerResponse, response: PreparedResponse, options: Pick<WriteOptions, 'isHead' | 'close'>): number {
  const { body } = response;
  writeHead(res, response, options.close);
  if (body.kind !== 'bytes' || !sendsBody(response, options.isHead)) {
    res.end();
    return 0;
  }
  res.end(body.data);
  return body.length;
}

function writeHead(res: ServerResponse, response: PreparedResponse, close: boolean): void {
  const head: Array<string | number | readonly string[]> = [];
  // A 204 has no body, so no length either (RFC 9110, section 8.6).
  for (const [name, value] of response.status === 204 ? framedHeaders(response) : response.headers) head.push(name, value);
  const framing = framingHeader(response);
  if (framing !== undefined) head.push(framing[0], framing[1]);
  if (close || response.close) head.push('Connection', 'close');
  res.writeHead(response.status, response.statusMessage, head as unknown as string[]);
}

function writeWithNode(
  res: ServerResponse, response: PreparedResponse, stream: Readable | undefined, options: WriteOptions,
): Promise<number | undefined> {
  if (stream === undefined) {
    let bytes = 0;
    return finished(res, () => { bytes = writeKnownBody(res, response, options); }, () => bytes);
  }
  writeHead(res, response, options.close);
  return pipeBody(res, res.req.socket, stream, response.declaredLength, options);
}

function writeToSocket(
  res: ServerResponse, response: PreparedResponse, withBody: boolean, stream: Readable | undefined, options: WriteOptions,
): Promise<number | undefined> {
  const { body } = response;
  return withSocket(res).then((socket) => {
    if (socket === undefined) {
      // The connection closed while earlier pipelined responses were still being sent.
      stream?.destroy();
      return undefined;
    }
    // HTTP/0.9 is the body alone: no status line, no headers.
    const head = response.version === '0.9' ? '' : rawHead(response);
    if (stream === undefined) {
      const data = body.kind === 'bytes' && withBody ? body.data : undefined;
      const length = data === undefined ? 0 : body.kind === 'bytes' ? body.length : 0;
      return new Promise<number | undefined>((resolve) => {
        socket.once('close', () => resolve(socket.writableFinished ? length : undefined));
        if (head) socket.write(head, 'latin1');
        if (data !== undefined) socket.write(data);
        socket.end();
      });
    }
    if (head) socket.write(head, 'latin1');
    return pipeBody(socket, socket, stream, response.declaredLength, options);
  });
}

/** Streams a body into `sink` with backpressure; a failing source destroys the connection. */
function pipeBody(
  sink: ServerResponse | Socket, connection: Socket, stream: Readable, declaredLength: number | undefined,
  options: WriteOptions,
): Promise<number | undefined> {
  return new Promise((resolve) => {
    // A response queued behind pipelined ones is never closed by Node when the connection dies:
    // stop its body ourselves, so that its source is released.
    const cancel = onConnectionClose(connection, () => stream.destroy());
    const limit = declaredLength === undefined ? undefined : enforceLength(declaredLength);
    let bytes = 0;
    stream.on('data', (chunk: Buffer | string) => { bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length; });
    // pipeline passes the first error on to every stream, so only the order tells a failing body
    // from a socket the client reset (ECONNRESET, EPIPE on the raw 1.0 socket).
    let clientLeft: boolean | undefined;
    stream.once('error', () => { clientLeft ??= false; });
    limit?.once('error', () => { clientLeft ??= false; });
    (sink as Socket).once('error', () => { clientLeft ??= true; });
    const done = (error?: NodeJS.ErrnoException | null) => {
      cancel();
      if (!error || handedOver(error)) { resolve(bytes); return; }
      // The client leaving is not the callback's fault; a failing body is.
      if (error.code !== 'ERR_STREAM_PREMATURE_CLOSE' && clientLeft !== true) options.onBodyError(error);
      resolve(undefined);
    };
    // A client that has all the bytes its Content-Length announced may hang up at once (curl does),
    // before the source has even said it is at its end: the body was sent, whole, all the same.
    const handedOver = (error: NodeJS.ErrnoException) => error.code === 'ERR_STREAM_PREMATURE_CLOSE' &&
      declaredLength !== undefined && bytes === declaredLength && (limit?.writableLength ?? 0) === 0 &&
      (limit?.readableLength ?? 0) === 0 && sink.writableLength === 0;
    if (limit === undefined) pipeline(stream, sink, done);
    else pipeline(stream, limit, sink, done);
  });
}

/**
 * Runs `write` and resolves once the response is finished (bytes) or abandoned
 * (undefined), including a response queued behind pipelined ones whose
 * connection died, which Node never closes.
 */
function finished(res: ServerResponse, write: () => void, bytes: () => number): Promise<number | undefined> {
  return new Promise((resolve) => {
    // A response that has its socket is closed by Node when the connection dies: its 'close' is enough.
    if (res.socket !== null) {
      res.once('close', () => resolve(res.writableFinished ? bytes() : undefined));
      write();
      return;
    }
    const cancel = onConnectionClose(res.req.socket, () => resolve(undefined));
    res.once('close', () => {
      cancel();
      resolve(res.writableFinished ? bytes() : undefined);
    });
    write();
  });
}

/**
 * The socket of this response, once the responses pipelined before it are
 * done; `undefined` when the connection closes first.
 */
function withSocket(res: ServerResponse): Promise<Socket | undefined> {
  if (res.socket) return Promise.resolve(res.socket as Socket);
  return new Promise((resolve) => {
    // Node never closes a response still queued behind others: watch the connection itself.
    const cancel = onConnectionClose(res.req.socket, () => {
      res.off('socket', onSocket);
      resolve(undefined);
    });
    const onSocket = (socket: Socket) => {
      cancel();
      resolve(socket);
    };
    res.once('socket', onSocket);
  });
}

/** The headers to send, with the framing the library decides (Content-Length for known bodies). */
export function framedHeaders(response: PreparedResponse): Array<[string, OutgoingHeaderValue]> {
  if (response.status === 204) return response.headers.filter(([name]) => name.toLowerCase() !== 'content-length');
  const framing = framingHeader(response);
  return framing === undefined ? response.headers : [...response.headers, framing];
}

/** The Content-Length the library adds: for a body of known length the callback did not declare. */
function framingHeader(response: PreparedResponse): [string, number] | undefined {
  const { body, status } = response;
  if (response.declaredLength !== undefined || BODILESS.has(status)) return undefined;
  if (body.kind === 'bytes') return ['Content-Length', body.length];
  if (body.kind === 'none') return ['Content-Length', 0];
  return undefined;
}

function rawHead(response: PreparedResponse): string {
  let head = `HTTP/${response.version} ${response.status} ${response.statusMessage}\r\n`;
  let hasDate = false;
  for (const [name, value] of framedHeaders(response)) {
    const lower = name.toLowerCase();
    if (lower === 'date') hasDate = true;
    for (const item of Array.isArray(value) ? value : [value]) head += `${name}: ${item}\r\n`;
  }
  if (!hasDate) head += `Date: ${new Date().toUTCString()}\r\n`;
  return `${head}Connection: close\r\n\r\n`;
}
