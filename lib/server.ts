import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import {
  answerClientError, closeAfterLastResponse, closeIdle, isClosing, markClosing, onConnectionClose, refuseRequest,
  whenExchangeEnds, writeStatusAndClose,
} from './connection.js';
import { ConnectionState } from './connection-state.js';
import { watchDeadlines } from './deadlines.js';
import { inspectFirstBytes, plainHttpRules, TLS_PORT_RULES } from './first-bytes.js';
import { createRequestListener, type ListenerContext } from './listener.js';
import { loadTls, type ResolvedOptions } from './options.js';
import { RefusalPacer } from './refusals.js';
import { abortRequest } from './request.js';
import { safelyReport } from './report.js';
import { traceCallback } from './trace/dictionary-view.js';
import { Transcript } from './trace/transcript.js';
import { WireView } from './trace/wire-view.js';
import type { Callback } from './types.js';

/** A listening server and the one way to take it down. */
export interface Listener {
  readonly address: { host: string; port: number };
  stop(timeout: number): Promise<void>;
}

/**
 * Creates the Node server (HTTP or HTTPS) for one registered callback,
 * applies the limits and timeouts, tracks its connections so that stopping
 * can tell idle ones from busy ones, and starts listening.
 */
export async function startListener(
  host: string, port: number, callback: Callback, options: ResolvedOptions, httpdid: number,
): Promise<Listener> {
  const serverOptions: http.ServerOptions = {
    maxHeaderSize: options.maxHeaderSize,
    headersTimeout: options.headersTimeout,
    requestTimeout: options.requestTimeout,
    keepAliveTimeout: options.keepAliveTimeout,
    // Node checks the two timeouts above only this often (30 s by default).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, options.headersTimeout)),
    // A missing Host is refused by request-checks.ts, where the refusal also closes the connection.
    requireHostHeader: false,
  };
  const server = options.tls
    // A TLS handshake is part of the head's time (Node's own handshake deadline is 120 s).
    ? https.createServer({
      ...serverOptions, handshakeTimeout: options.headersTimeout || 120_000, ...(await loadTls(options.tls)),
    })
    : http.createServer(serverOptions);
  server.keepAliveTimeout = options.keepAliveTimeout;
  // Node drops headers past maxHeadersCount silently; one more than the limit lets the listener see and refuse them.
  server.maxHeadersCount = options.maxHeaderCount + 1;

  let stopping = false;
  const context: ListenerContext = {
    httpdid,
    scheme: options.tls ? 'https' : 'http',
    get stopping() { return stopping; },
    pending: new Set(),
  };
  // Tracing off costs nothing: the callback is not wrapped and no socket is tapped.
  const transcript = options.trace === undefined ? undefined : new Transcript(options.trace);
  const wire = transcript !== undefined && options.trace!.wire ? new WireView(transcript) : undefined;
  const onRequest = createRequestListener(
    transcript === undefined ? callback : traceCallback(callback, transcript), options, context,
  );
  const connections = new Set<ConnectionState>();
  const refusals = new RefusalPacer(options.maxConnections, Boolean(options.tls));
  /** Both sockets of a connection (TCP and, for HTTPS, TLS) lead to its state. */
  const stateOf = new WeakMap<Socket, ConnectionState>();
  const perPeer = new Map<string, number>();
  /** For HTTPS: the TCP connection a TLS socket rides on, found by the peer's address and port. */
  const byPeer = new Map<string, ConnectionState>();

  const track = (message: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean) => {
    const socket = message.socket as Socket;
    const connection = stateOf.get(socket);
    if (connection === undefined) return; // not admitted: already refused and closing
    connection.inFlight += 1;
    connection.lastMessage = message;
    connection.lastResponse = res;
    // Node's own maxRequestsPerSocket says `Connection: close` but keeps the connection open.
    connection.requests += 1;
    const lastOnConnection = options.maxRequestsPerConnection > 0 && connection.requests >= options.maxRequestsPerConnection;
    let listenerDone: (() => void) | undefined;
    const turnOver = connection.takeTurn(() => { listenerDone = onRequest(message, res, expectsContinue, lastOnConnection); });
    whenExchangeEnds(message, res, () => {
      listenerDone?.();
      // Node forgets a request once its response is finished and would not abort it when the
      // connection closes: a callback still reading its body (after a 503, a refusal) is told here.
      if (!message.complete) onConnectionClose(socket, () => message.destroy());
      connection.inFlight -= 1;
      turnOver();
      // While stopping, or after bytes Node could not parse, a connection leaves once its last response is out.
      if ((stopping || isClosing(socket)) && connection.inFlight === 0) closeAfterLastResponse(socket);
    });
  };
  server.on('request', (message, res) => track(message, res, false));
  server.on('checkContinue', (message, res) => track(message, res, true));

  // The first bytes are looked at before Node's parser (HTTP, or TLS) takes the connection (see first-bytes.ts).
  const [parseConnection] = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeListener('connection', parseConnection!);
  const firstBytes = options.tls ? TLS_PORT_RULES : plainHttpRules(options.http09);
  server.on('connection', (socket: Socket) => {
    // Plain HTTP is tapped before anything is read or written, so that every refusal shows too.
    const parserAttached = options.tls ? undefined : wire?.tapConnection(socket, { parserAttached: false, secure: false });
    const peer = socket.remoteAddress ?? '';
    const fromPeer = (perPeer.get(peer) ?? 0) + 1;
    if (stopping || connections.size >= options.maxConnections ||
      (options.maxConnectionsPerPeer > 0 && fromPeer > options.maxConnectionsPerPeer)) {
      refusals.refuse(socket, peer);
      return;
    }
    const connection = new ConnectionState(socket, peer, options.maxPipelinedRequests);
    connections.add(connection);
    stateOf.set(socket, connection);
    perPeer.set(peer, fromPeer);
    if (options.tls) byPeer.set(peerKey(socket), connection);
    else watchDrains(connection);
    socket.once('close', () => {
      connections.delete(connection);
      if (options.tls) byPeer.delete(peerKey(socket));
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left === 0) perPeer.delete(peer); else perPeer.set(peer, left);
    });
    inspectFirstBytes(socket, options.headersTimeout, firstBytes, () => {
      parseConnection!.call(server, socket);
      parserAttached?.();
      // Node's HTTP parser reads from the stream, which the look at the first bytes left paused.
      if (!options.tls) socket.resume();
    });
  });

  // HTTPS: requests arrive on the TLS socket; limits and shutdown work on the TCP connection under it.
  if (options.tls) {
    server.on('secureConnection', (secure: Socket) => {
      const connection = byPeer.get(peerKey(secure));
      if (connection === undefined) return;
      connection.secure = secure;
      wire?.tapConnection(secure, { parserAttached: true, secure: true });
      stateOf.set(secure, connection);
      watchDrains(connection);
    });
  }

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const connection = stateOf.get(socket);
    // HTTPS passes TLS handshake failures (and its handshake timeout) here too: no HTTP can be spoken yet.
    if (options.tls && connection === undefined) {
      socket.destroy();
      return;
    }
    answerClientError(error, socket, {
      inFlight: connection?.inFlight ?? 0,
      message: connection?.lastMessage,
      response: connection?.lastResponse,
    });
  });
  // CONNECT (a proxy tunnel) is not something this server offers; Node would just drop the connection.
  server.on('connect', (_message: http.IncomingMessage, socket: Socket) => {
    const connection = stateOf.get(socket);
    if (connection === undefined || connection.inFlight === 0) {
      writeStatusAndClose(socket, 501);
      return;
    }
    // Behind requests still being answered, like bytes Node cannot parse: they finish, then the
    // connection closes (see `track`). Node has let go of the socket, so it is read no more.
    markClosing(socket);
    socket.pause();
    keepDrainingResponses(socket);
  });
  // Errors on a listening server (EMFILE on accept, ...) are reported, never thrown.
  const onServerError = (error: Error) => safelyReport(options.onError, error);

  await listen(server, host, port);
  server.on('error', onServerError);
  const stopDeadlines = watchDeadlines(connections, options, {
    onBodyStall: (connection) => refuseRequest(connection.http, connection.lastResponse, 408),
    onSendStall: resetConnection,
  });
  const bound = server.address();
  const address = typeof bound === 'object' && bound !== null
    ? { host: bound.address, port: bound.port }
    : { host, port };

  return {
    address,
    stop(timeout: number): Promise<void> {
      stopping = true;
      // Tell callbacks and streamed bodies still running to wrap up; they keep `timeout` ms to do so.
      const reason = new Error('The listener is stopping');
      for (const request of context.pending) abortRequest(request, reason);
      refusals.stop();
      return new Promise((resolve) => {
        let deadline: NodeJS.Timeout | undefined;
        server.close(() => {
          clearTimeout(deadline);
          stopDeadlines();
          resolve();
        });
        for (const connection of connections) {
          if (connection.inFlight === 0) closeIdle(connection.http);
        }
        const cutAll = () => {
          for (const connection of connections) connection.http.destroy();
        };
        if (timeout === 0) cutAll();
        else if (connections.size > 0) deadline = setTimeout(cutAll, timeout);
      });
    },
  };
}

/**
 * Cuts a connection whose client stopped reading. A plain close would leave
 * the unsent bytes in the kernel, which would go on trickling them out to the
 * slow reader (and holding its memory) long after the server let go; a reset
 * discards them. A socket that cannot be reset (TLS over a wrapped handle)
 * is destroyed.
 */
function resetConnection(connection: ConnectionState): void {
  // A socket that has lost its handle is destroyed with an error instead; no one else listens for it now.
  connection.socket.on('error', () => {});
  try {
    connection.socket.resetAndDestroy();
  } catch {
    connection.http.destroy();
  }
  if (connection.secure !== undefined) connection.secure.destroy();
}

/**
 * Node stops passing the socket's `'drain'` on to its response once it hands
 * the socket over for CONNECT, so a response still being written would wait
 * for it forever: it is passed on here, as Node's own listener did.
 */
function keepDrainingResponses(socket: Socket): void {
  socket.on('drain', () => {
    const response = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (response && !response.writableEnded && response.writableNeedDrain) response.emit('drain');
  });
}

/** Counts the `'drain'` events of the HTTP socket: the send deadline's sign of progress. */
function watchDrains(connection: ConnectionState): void {
  connection.http.on('drain', () => { connection.drains += 1; });
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      // The first error most people meet: say the way out, not only the system's words.
      const advice = error.code === 'EADDRINUSE' ? ' (another server has this port: stop it, or pass port 0 for any free port)' : '';
      reject(Object.assign(new Error(`Cannot listen on ${formatHostPort(host, port)}: ${error.message}${advice}`, { cause: error }), {
        code: error.code, errno: error.errno, syscall: error.syscall, address: host, port,
      }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port });
  });
}

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}
