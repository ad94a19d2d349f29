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

/**
 * What Node's parser (or its head and request timers) could not accept.
 * Node's own answer is kept (400, 431 for oversized headers, 408 for a
 * timeout, then close), with one exception: when the bad bytes come after a
 * complete request whose response is still under way, no error status is
 * written into that response; the connection closes after it instead.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket, busy: boolean, lastComplete: boolean): void {
  markClosing(socket);
  if (busy && lastComplete && socket.writable) return;
  // A request cut short (the client left, its body timed out or was malformed) cannot be answered.
  if (busy || !socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    () => socket.destroy(),
  );
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
  // Node's parser is already attached: keep it from handing us a request on this socket.
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
