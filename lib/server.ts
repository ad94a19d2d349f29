import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { answerClientError, closeIdle, isClosing, refuseConnection, whenExchangeEnds } from './connection.js';
import { createRequestListener, type ListenerContext } from './listener.js';
import { loadTls, type ResolvedOptions } from './options.js';
import { abortRequest } from './request.js';
import { safelyReport } from './report.js';
import type { Callback } from './types.js';

/** A listening server and the one way to take it down. */
export interface Listener {
  readonly address: { host: string; port: number };
  stop(timeout: number): Promise<void>;
}

/** Requests in flight on a connection; a connection at 0 is idle. */
const inFlight = Symbol('inFlight');
/** For HTTPS: the TLS socket riding on a TCP connection, and back. */
const secureOf = Symbol('secureOf');
const connectionOf = Symbol('connectionOf');
/** The request Node parsed last on a connection: an error in the bytes after it does not concern it. */
const lastMessage = Symbol('lastMessage');
type TrackedSocket = Socket & {
  [inFlight]: number;
  [lastMessage]?: http.IncomingMessage;
  [secureOf]?: Socket;
  [connectionOf]?: TrackedSocket;
};

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
    requireHostHeader: true,
  };
  const server = options.tls
    ? https.createServer({ ...serverOptions, ...(await loadTls(options.tls)) })
    : http.createServer(serverOptions);
  server.keepAliveTimeout = options.keepAliveTimeout;

  let stopping = false;
  const context: ListenerContext = {
    httpdid,
    scheme: options.tls ? 'https' : 'http',
    get stopping() { return stopping; },
    pending: new Set(),
  };
  const onRequest = createRequestListener(callback, options, context);
  const sockets = new Set<TrackedSocket>();
  const perPeer = new Map<string, number>();

  // Requests arrive on the TLS socket; limits and shutdown work on the TCP connection under it.
  const byPeer = new Map<string, TrackedSocket>();
  if (options.tls) {
    server.on('secureConnection', (secure: TrackedSocket) => {
      const connection = byPeer.get(peerKey(secure));
      if (connection === undefined) return;
      connection[secureOf] = secure;
      secure[connectionOf] = connection;
    });
  }

  const track = (message: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean) => {
    const socket = message.socket as TrackedSocket;
    const connection = socket[connectionOf] ?? socket;
    connection[inFlight] = (connection[inFlight] ?? 0) + 1;
    connection[lastMessage] = message;
    const listenerDone = onRequest(message, res, expectsContinue);
    whenExchangeEnds(message, res, () => {
      listenerDone?.();
      connection[inFlight] -= 1;
      // While stopping, or after bytes Node could not parse, a connection leaves once its last response is out.
      if ((stopping || isClosing(socket)) && connection[inFlight] === 0) closeIdle(socket);
    });
  };
  server.on('request', (message, res) => track(message, res, false));
  server.on('checkContinue', (message, res) => track(message, res, true));
  server.on('connection', (socket: TrackedSocket) => {
    const peer = socket.remoteAddress ?? '';
    const fromPeer = (perPeer.get(peer) ?? 0) + 1;
    if (stopping || sockets.size >= options.maxConnections ||
      (options.maxConnectionsPerPeer > 0 && fromPeer > options.maxConnectionsPerPeer)) {
      refuseConnection(socket, Boolean(options.tls));
      return;
    }
    socket[inFlight] = 0;
    sockets.add(socket);
    perPeer.set(peer, fromPeer);
    if (options.tls) byPeer.set(peerKey(socket), socket);
    socket.once('close', () => {
      sockets.delete(socket);
      if (options.tls) byPeer.delete(peerKey(socket));
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left === 0) perPeer.delete(peer); else perPeer.set(peer, left);
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const connection = (socket as TrackedSocket)[connectionOf] ?? (socket as TrackedSocket);
    const busy = (connection[inFlight] ?? 0) > 0;
    answerClientError(error, socket, busy, connection[lastMessage]?.complete ?? true);
  });
  // Errors on a listening server (EMFILE on accept, ...) are reported, never thrown.
  const onServerError = (error: Error) => safelyReport(options.onError, error);

  await listen(server, host, port);
  server.on('error', onServerError);
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
      return new Promise((resolve) => {
        let deadline: NodeJS.Timeout | undefined;
        server.close(() => {
          clearTimeout(deadline);
          resolve();
        });
        for (const socket of sockets) {
          if (socket[inFlight] === 0) closeIdle(socket[secureOf] ?? socket);
        }
        const cutAll = () => {
          for (const socket of sockets) (socket[secureOf] ?? socket).destroy();
        };
        if (timeout === 0) cutAll();
        else if (sockets.size > 0) deadline = setTimeout(cutAll, timeout);
      });
    },
  };
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(Object.assign(new Error(`Cannot listen on ${formatHostPort(host, port)}: ${error.message}`, { cause: error }), {
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
