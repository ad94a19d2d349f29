import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The life of one connection below the request level: whether it is
 * closing, how it is closed when idle, refused over a limit, or answered
 * when Node's parser gives up on it.
 *
 * Node still parses and dispatches requests pipelined behind a response
 * that closes the connection (or behind bytes it could not parse); their
 * callbacks must not run, since their answers can never be sent.
 */
const closingConnections = new WeakSet<object>();

/** No request after the current one will be served on `socket`. */
export function markClosing(socket: object): void {
  closingConnections.add(socket);
}

export function isClosing(socket: object): boolean {
  return closingConnections.has(socket);
}

/** The request a connection is on, as far as an error in its bytes is concerned. */
export interface CurrentExchange {
  /** Requests parsed and not yet answered on the connection. */
  inFlight: number;
  /** The request Node parsed last, and its response. */
  message: IncomingMessage | undefined;
  response: ServerResponse | undefined;
}

/**
 * What Node's parser (or its head and request timers) could not accept.
 * Node's own statuses are kept (400; 431 for oversized headers; 413 for
 * oversized chunk extensions; 408 for a timeout) and the connection closes.
 * Where the bad bytes are decides who hears about it:
 * - in the body of a request already handed over: that request is answered
 *   with the error (in order, after those before it), if its response has
 *   not begun; otherwise the connection is cut, since its response is
 *   partial or already complete;
 * - in a new request head while earlier responses are still under way: no
 *   status is written into them; the connection closes after them;
 * - in a new request head on an idle connection: the status, then close.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket, current: CurrentExchange): void {
  markClosing(socket);
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status = clientErrorStatus(error);
  const { message, response } = current;
  if (message !== undefined && !message.complete) {
    refuseRequest(socket, response, status);
    return;
  }
  if (current.inFlight > 0) return;
  writeStatusAndClose(socket, status);
}

function clientErrorStatus(error: NodeJS.ErrnoException): number {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW': return 431;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW': return 413;
    case 'ERR_HTTP_REQUEST_TIMEOUT': return 408;
    default:
      // llhttp knows HTTP/0.9 to 1.1 (and 2.0, which the listener refuses); a well-formed other
      // version is not supported. Its other version errors are malformed request lines.
      return error.code === 'HPE_INVALID_VERSION' && (error as { reason?: unknown }).reason === 'Invalid HTTP version' ? 505 : 400;
  }
}

/**
 * Answers a request with a short error `status` and `Connection: close`,
 * instead of the callback: a head this server will not serve, or a body
 * that cannot be received (malformed, too slow), in which case the
 * callback's own answer, when it comes, is dropped. A response already
 * under way cannot be corrected; the connection is cut.
 */
export function refuseRequest(socket: Socket, response: ServerResponse | undefined, status: number): void {
  markClosing(socket);
  if (response === undefined || response.headersSent || response.writableEnded || !socket.writable) {
    socket.destroy();
    return;
  }
  const text = `${STATUS_CODES[status] ?? 'Error'}\n`;
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    Connection: 'close',
  });
  response.end(text);
}

/** A status (bodiless, or with a short plain `text`) written straight to a connection no request owns, then close. */
export function writeStatusAndClose(socket: Socket, status: number, text?: string): void {
  markClosing(socket);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = text === undefined
    ? 'Content-Length: 0\r\n'
    : `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${body}Connection: close\r\n\r\n${text ?? ''}`,
    () => socket.destroy(),
  );
}

/** How long a connection closed after its last response keeps reading what the client already sent. */
const LINGER_MS = 2000;

/**
 * Closes a connection after its last response, lingering (RFC 9112,
 * section 9.6): our side is ended (FIN after the queued bytes), and what the
 * client already sent is still read until it closes its side too. Closing at
 * once with unread bytes (a request pipelined behind the last response)
 * makes the kernel send a reset, which can destroy that response before the
 * client has read it.
 */
export function closeAfterLastResponse(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** An idle connection is closed at once; data still queued for it is flushed first. */
export function closeIdle(socket: Socket): void {
  if (socket.writableLength === 0) socket.destroy();
  else socket.end(() => socket.destroy());
}

/** Over a connection limit: a plain-HTTP client is told why; a TLS handshake is just cut. */
export function refuseConnection(socket: Socket, tls: boolean): void {
  socket.on('error', () => {});
  if (tls) {
    socket.destroy();
    return;
  }
  const text = 'Too many connections\n';
  socket.end(
    `HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${text.length}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n${text}`,
    () => socket.destroy(),
  );
  // Nothing more is read from it: no parser is attached to a refused connection, and none will be.
  socket.pause();
}

/** What to run when a connection closes: one 'close' listener per socket, however many requests wait on it. */
const closeHandlers = new WeakMap<Socket, Set<() => void>>();

/**
 * Runs `handler` once when `socket` closes (at once if it already has);
 * returns a function that cancels it.
 */
export function onConnectionClose(socket: Socket, handler: () => void): () => void {
  if (socket.destroyed) {
    process.nextTick(handler);
    return () => {};
  }
  let handlers = closeHandlers.get(socket);
  if (handlers === undefined) {
    const registered = new Set<() => void>();
    handlers = registered;
    closeHandlers.set(socket, registered);
    socket.once('close', () => {
      closeHandlers.delete(socket);
      for (const run of registered) run();
    });
  }
  handlers.add(handler);
  const own = handlers;
  return () => { own.delete(handler); };
}

/**
 * Calls `onEnd` once, when the exchange of `message` and `res` is over: its
 * response closed (sent or not), or its connection closed while the response
 * still waited behind earlier pipelined ones (Node never closes such a
 * queued response).
 */
export function whenExchangeEnds(message: IncomingMessage, res: ServerResponse, onEnd: () => void): void {
  // A response that has its socket is closed by Node when the connection dies: its 'close' is enough.
  if (res.socket !== null) {
    res.once('close', onEnd);
    return;
  }
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    cancel();
    onEnd();
  };
  const cancel = onConnectionClose(message.socket, end);
  res.once('close', end);
}
