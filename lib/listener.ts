import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { answerCallback, failureResponse } from './callback-answer.js';
import { isClosing, markClosing, refuseRequest } from './connection.js';
import { isPreflight, preflightHeaders } from './cors.js';
import type { ResolvedOptions } from './options.js';
import { formatLogLine, safelyReport } from './report.js';
import { abortRequest, bodyOf, buildRequest } from './request.js';
import { refusalStatus } from './request-checks.js';
import { discardMessage } from './response-body.js';
import type { PreparedResponse } from './response-validate.js';
import { writeKnownBody, writeResponse } from './response-write.js';
import type { Callback, HttpRequest } from './types.js';

/** What the listener shares with the server that owns it. */
export interface ListenerContext {
  httpdid: number;
  scheme: 'http' | 'https';
  /** True once `stopCallback` has begun: every later response closes its connection. */
  readonly stopping: boolean;
  /** Requests whose callback or response is still under way, so that stopping can abort their signals. */
  readonly pending: Set<HttpRequest>;
}

/** An unread body this small is read and discarded to keep the connection; larger ones close it. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * Builds the function Node calls for each parsed request: it runs the
 * request from parsed message to bytes on the wire, top to bottom:
 * protocol checks, request dictionary, callback, validation, writing.
 * It never throws and never lets a callback's failure escape.
 */
export function createRequestListener(callback: Callback, options: ResolvedOptions, context: ListenerContext) {
  /** Returns what to run when the exchange is over (see `whenExchangeEnds`), for requests the callback sees. */
  return function onRequest(
    message: IncomingMessage, res: ServerResponse, expectsContinue = false, lastOnConnection = false,
  ): (() => void) | undefined {
    if (isClosing(message.socket)) return undefined;
    // Requests pipelined after this one are never handed over when its response is known now to close
    // the connection: the last one allowed, any HTTP/1.0 or 0.9 request (their answers always close),
    // and a client's own `Connection: close`.
    if (lastOnConnection || closesConnection(message, res)) markClosing(message.socket);
    const refusal = refusalStatus(message, options);
    if (refusal !== undefined) {
      refuseRequest(message.socket, res, refusal);
      return undefined;
    }

    const started = options.log ? performance.now() : 0;
    let continued = !expectsContinue;
    const request = buildRequest(message, {
      httpdid: context.httpdid,
      scheme: context.scheme,
      query: options.query,
      maxBodySize: options.maxBodySize,
      onFirstRead: () => {
        if (continued) return;
        continued = true;
        res.writeContinue();
      },
    });
    // A preflight is answered here, never by the callback, but it is a request like any other in the log.
    if (isPreflight(options.cors, message.method, message.headers)) {
      res.writeHead(204, preflightHeaders(message.headers).flat()).end();
      if (options.log) logRequest(options, request, message, 204, 0, started);
      return undefined;
    }
    const clientLeft = () => abortRequest(request, new Error('The connection closed before the response was complete'));
    // 1.0 and 0.9 answers bypass `res`, which never finishes: the writer's result tells whether they were sent.
    let writtenPastRes = false;
    // Over once the response closed or its connection died, even while queued behind pipelined ones.
    let over = false;
    let failedToWrite = false;
    // Set when the fast path wrote the response: what follows the write is done when the exchange ends.
    let written: { bytes: number; status: number; keepsConnection: boolean } | undefined;
    context.pending.add(request);
    const exchangeEnded = () => {
      over = true;
      context.pending.delete(request);
      if (!res.writableFinished && !writtenPastRes) clientLeft();
      if (written !== undefined) afterWrite(written.keepsConnection, written.status, res.writableFinished ? written.bytes : undefined);
    };
    const afterWrite = (keepsConnection: boolean, status: number, bytes: number | undefined) => {
      if (keepsConnection && hasUnreadBody(message)) drain(message, request);
      if (options.log) logRequest(options, request, message, status, bytes, started);
    };

    const finish = (response: PreparedResponse) => {
      if (over) {
        // The client left before the callback settled: nothing to send, but the request is still logged.
        if (response.body.kind === 'stream') discardMessage(response.body.source);
        if (options.log) logRequest(options, request, message, response.status, undefined, started);
        return;
      }
      // The last request a connection may carry says so in its response.
      const keepsConnection = !context.stopping && !lastOnConnection &&
        (!hasUnreadBody(message) || (continued && drainable(message, request)));
      if (!keepsConnection || response.close || response.version !== '1.1') markClosing(message.socket);
      writtenPastRes = response.version !== '1.1';
      const isHead = message.method === 'HEAD';
      if (!writtenPastRes && response.body.kind !== 'stream') {
        // Most answers: a known-length body over 1.1, written now, with no promise to wait on.
        try {
          written = { bytes: writeKnownBody(res, response, { isHead, close: !keepsConnection }), status: response.status, keepsConnection };
        } catch (error) {
          // Validation mirrors Node's own checks, so this is a bug of ours: lose the connection, not the process.
          safelyReport(options.onError, error, request);
          res.destroy();
        }
        return;
      }
      let sent: Promise<number | undefined>;
      try {
        sent = writeResponse(res, response, {
          isHead,
          close: !keepsConnection,
          onBodyError: (error) => safelyReport(options.onError, error, request),
        });
      } catch (error) {
        // A message that cannot be opened as a stream: nothing is written yet, so the client gets a clean 500.
        if (!res.headersSent && !failedToWrite) {
          failedToWrite = true;
          if (response.body.kind === 'stream') discardMessage(response.body.source);
          finish(failureResponse(error, message, options, request));
          return;
        }
        // Validation mirrors Node's own checks, so this is a bug of ours: lose the connection, not the process.
        safelyReport(options.onError, error, request);
        res.destroy();
        return;
      }
      sent.then((bytes) => {
        if (bytes === undefined) clientLeft();
        afterWrite(keepsConnection, response.status, bytes);
      }, (error: unknown) => safelyReport(options.onError, error, request));
    };

    answerCallback(callback, request, message, options, finish, res);
    return exchangeEnded;
  };
}

/** A request whose answer closes the connection whatever the callback returns. */
function closesConnection(message: IncomingMessage, res: ServerResponse): boolean {
  return message.httpVersionMajor !== 1 || message.httpVersionMinor === 0 || !res.shouldKeepAlive;
}

/**
 * Whether body bytes may still be on their way. A request without
 * Content-Length or Transfer-Encoding has no body (RFC 9112, section 6.3),
 * even before Node marks it complete.
 */
function hasUnreadBody(message: IncomingMessage): boolean {
  if (message.complete || message.readableEnded) return false;
  const { headers } = message;
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

function drainable(message: IncomingMessage, request: HttpRequest): boolean {
  const body = bodyOf(request);
  if (body !== undefined) return body.drainable(DRAIN_LIMIT);
  const length = Number(message.headers['content-length']);
  return Number.isSafeInteger(length) && length <= DRAIN_LIMIT;
}

function drain(message: IncomingMessage, request: HttpRequest): void {
  const body = bodyOf(request);
  if (body !== undefined) body.drain();
  else message.resume();
}

function logRequest(
  options: ResolvedOptions, request: HttpRequest, message: IncomingMessage,
  statuscode: number, bytes: number | undefined, started: number,
): void {
  const entry = {
    httpdid: request.httpdid,
    remoteipstr: request.remoteipstr,
    verb: message.method ?? '',
    target: message.url ?? '',
    version: message.httpVersion,
    statuscode,
    bytes,
    durationMs: performance.now() - started,
  };
  try {
    options.log!(formatLogLine(entry), entry);
  } catch (error) {
    safelyReport(options.onError, error, request);
  }
}
