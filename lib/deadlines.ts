import type { Socket } from 'node:net';
import type { ConnectionState } from './connection-state.js';

export interface DeadlineOptions {
  /** Time to receive a request body while the server is ready for it, in ms, extended by its bytes (see MIN_BODY_RATE); 0 disables. */
  bodyTimeout: number;
  /** Longest a response may sit unsent because the client does not read, in ms; 0 disables. */
  sendTimeout: number;
}

export interface DeadlineActions {
  /** The body of `connection.lastMessage` stopped arriving. */
  onBodyStall(connection: ConnectionState): void;
  /** The client stopped taking the response; nothing more can be sent. */
  onSendStall(connection: ConnectionState): void;
}

/**
 * The two deadlines Node does not keep: a request body that arrives too
 * slowly or not at all (slowloris in the body) and a client that stops
 * reading its response (slow read). One timer per server looks at every connection, comparing
 * progress with the previous look, instead of a timer per socket or per write.
 * Node's socket `'timeout'` is not used: a listener on it would disable
 * Node's own closing of idle keep-alive connections.
 *
 * Returns a function that stops the checks.
 */
export function watchDeadlines(
  connections: Iterable<ConnectionState>, options: DeadlineOptions, actions: DeadlineActions,
): () => void {
  const { bodyTimeout, sendTimeout } = options;
  const enabled = [bodyTimeout, sendTimeout].filter((timeout) => timeout > 0);
  if (enabled.length === 0) return () => {};
  // Look often enough that a deadline is kept within a quarter of itself (and at least every second).
  const every = Math.max(25, Math.min(1000, Math.floor(Math.min(...enabled) / 4)));
  let lastLook = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    // A look that comes late means the event loop was blocked (a callback computing, a sync read):
    // the client's bytes were waiting in the kernel meanwhile, unread. That time is the server's,
    // so at most two periods count, however long the block was.
    const step = Math.min(now - lastLook, 2 * every);
    lastLook = now;
    for (const connection of connections) {
      if (bodyTimeout > 0 && bodyStalled(connection, step, bodyTimeout)) actions.onBodyStall(connection);
      else if (sendTimeout > 0 && sendStalled(connection, step, sendTimeout)) actions.onSendStall(connection);
    }
  }, every);
  // The listening server keeps the process alive; this timer alone never should.
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The body allowance grows by a second for each `MIN_BODY_RATE` bytes
 * received (Apache's mod_reqtimeout works the same way): a body must keep
 * arriving at this average rate after its first `bodyTimeout`, so that a
 * client trickling a few bytes every few seconds (slowloris in the body)
 * is cut as surely as one that stops.
 */
export const MIN_BODY_RATE = 1024;

/**
 * Whether the body being received is late: the time spent waiting on the
 * client for it exceeds `timeout` plus the allowance its bytes earned. Time
 * with reading paused (the callback not reading yet, requests waiting their
 * turn, output backpressure) is not the client's fault and does not count,
 * nor is time the server's event loop was blocked (`step` is capped).
 */
function bodyStalled(connection: ConnectionState, step: number, timeout: number): boolean {
  const message = connection.lastMessage;
  const socket = connection.http;
  const { body } = connection;
  if (message !== body.message) {
    // A new request: its body starts now.
    body.message = message;
    body.startBytes = socket.bytesRead;
    body.waited = 0;
    return false;
  }
  const waitingOnClient = message !== undefined && !message.complete && !message.destroyed &&
    !socket.isPaused() && !connection.holdingBack && message.readableLength < message.readableHighWaterMark;
  if (!waitingOnClient) return false;
  body.waited += step;
  const earned = ((socket.bytesRead - body.startBytes) * 1000) / MIN_BODY_RATE;
  return body.waited >= timeout + earned;
}

/**
 * Whether bytes have waited to be sent, with none handed to the kernel, for
 * `timeout` ms: the measure of nginx's `send_timeout`. The kernel's buffers
 * take bytes in bursts as the client reads, so a client must read at least
 * a socket buffer's worth per `timeout`, not merely some bytes.
 */
function sendStalled(connection: ConnectionState, step: number, timeout: number): boolean {
  const socket = connection.http;
  const { send } = connection;
  // What the socket holds, plus the part of its current write libuv has not passed on yet
  // (a single large write shows no progress in `writableLength` until all of it is out).
  const pending = socket.writableLength + unsentOfCurrentWrite(socket);
  if (pending === 0 || pending !== send.pending || connection.drains !== send.drains) {
    send.pending = pending;
    send.drains = connection.drains;
    send.waited = 0;
    return false;
  }
  send.waited += step;
  return send.waited >= timeout;
}

/** libuv's count of bytes queued on the handle (`writeQueueSize`, on TCP and TLS handles alike). */
function unsentOfCurrentWrite(socket: Socket): number {
  const handle = (socket as Socket & { _handle?: { writeQueueSize?: unknown } | null })._handle;
  return typeof handle?.writeQueueSize === 'number' ? handle.writeQueueSize : 0;
}
