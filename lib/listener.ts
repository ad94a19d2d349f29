import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { isClosing, markClosing, refuseRequest } from './connection.js';
import { corsHeaders, isPreflight, preflightHeaders } from './cors.js';
import { ResponseError, isError, readSafely, safeString, statusOf } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { formatLogLine, safelyReport } from './report.js';
import { abortRequest, bodyOf, buildRequest } from './request.js';
import { refusalStatus } from './request-checks.js';
import { discardMessage } from './response-body.js';
import { prepareResponse, type PreparedResponse } from './response-validate.js';
import { writeResponse } from './response-write.js';
import type { Callback, HttpRequest, OutgoingHeaderValue } from './types.js';

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
    // Requests pipelined after this one are never handed over; its response closes the connection.
    if (lastOnConnection) markClosing(message.socket);
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
    context.pending.add(request);
    const exchangeEnded = () => {
      over = true;
      context.pending.delete(request);
      if (!res.writableFinished && !writtenPastRes) clientLeft();
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
      let written: Promise<number | undefined>;
      try {
        written = writeResponse(res, response, {
          isHead: message.method === 'HEAD',
          close: !keepsConnection,
          onBodyError: (error) => safelyReport(options.onError, error, request),
        });
      } catch (error) {
        // A message that cannot be opened as a stream: nothing is written yet, so the client gets a clean 500.
        if (!res.headersSent && !failedToWrite) {
          failedToWrite = true;
          if (response.body.kind === 'stream') discardMessage(response.body.source);
          fail(error);
          return;
        }
        // Validation mirrors Node's own checks, so this is a bug of ours: lose the connection, not the process.
        safelyReport(options.onError, error, request);
        res.destroy();
        return;
      }
      written.then((bytes) => {
        if (bytes === undefined) clientLeft();
        if (keepsConnection && hasUnreadBody(message)) drain(message, request);
        if (options.log) logRequest(options, request, message, response.status, bytes, started);
      }, (error: unknown) => safelyReport(options.onError, error, request));
    };

    const respond = (value: unknown) => {
      let response: PreparedResponse;
      try {
        response = prepareResponse(value, responseContext(options, message));
      } catch (error) {
        discardMessage(messageOf(value));
        fail(error);
        return;
      }
      finish(response);
    };

    const fail = (error: unknown) => {
      const status = statusOf(error);
      // A bug is reported even when the client has gone and no one will see the 500.
      if (status === undefined || status >= 500) safelyReport(options.onError, error, request);
      finish(errorResponse(error, status ?? 500, options, message));
    };

    let result: unknown;
    try {
      result = callback(request);
    } catch (error) {
      fail(error);
      return exchangeEnded;
    }
    // Synchronous callbacks are answered in the same tick: no promise, no timer.
    if (!isThenable(result)) {
      respond(result);
      return exchangeEnded;
    }
    awaitCallback(result, options.callbackTimeout, res, (reason) => abortRequest(request, reason)).then(respond, fail)
      .catch((error: unknown) => safelyReport(options.onError, error, request));
    return exchangeEnded;
  };
}

function responseContext(options: ResolvedOptions, message: IncomingMessage) {
  const cors = corsHeaders(options.cors, message.headers);
  const defaultHeaders: ReadonlyArray<readonly [string, OutgoingHeaderValue]> =
    cors === undefined ? options.headers : [...options.headers, ...cors];
  return { requestVersion: message.httpVersion as HttpRequest['version'], isHead: message.method === 'HEAD', defaultHeaders };
}

/**
 * The response for a callback that threw. The http-errors convention decides
 * what the client may see: 4xx messages are shown, 5xx bodies stay generic
 * unless the error says `expose: true` or the listener has `exposeErrors`.
 */
function errorResponse(error: unknown, status: number, options: ResolvedOptions, message: IncomingMessage): PreparedResponse {
  // Only an error with a valid HTTP status speaks for the response: the `expose` or `headers`
  // of any other error (an upstream client's response headers, say) never reach the client.
  // Every property is read safely: a callback may throw a Proxy or an object with throwing getters.
  const httpError = statusOf(error) !== undefined;
  let text = STATUS_CODES[status] ?? 'Error';
  const shown = readSafely(error, 'message');
  if (httpError && readSafely(error, 'expose') === true && typeof shown === 'string') {
    text = shown;
  } else if (options.exposeErrors) {
    text = isError(error) ? safeString(readSafely(error, 'stack') ?? error) : `Non-error value thrown: ${safeString(error)}`;
  }
  const context = responseContext(options, message);
  const given = httpError ? readSafely(error, 'headers') : undefined;
  const headers = typeof given === 'object' && given !== null ? given : undefined;
  try {
    return prepareResponse({ statuscode: status, headers, message: `${text}\n` }, context);
  } catch (invalid) {
    // The error's own headers were malformed: answer without them.
    if (isError(invalid) && invalid instanceof ResponseError) safelyReport(options.onError, invalid);
    return prepareResponse({ statuscode: status, message: `${text}\n` }, context);
  }
}

/**
 * Settles with the callback's result, or rejects with a 503 when it takes
 * longer than `timeout`; then `onTimeout` tells the callback (through
 * `request.signal`) to give up, since its answer will never be sent.
 */
function awaitCallback(
  result: PromiseLike<unknown>, timeout: number, res: ServerResponse, onTimeout: (reason: Error) => void,
): Promise<unknown> {
  if (timeout === 0) return Promise.resolve(result);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const reason = Object.assign(new Error(`The callback did not answer within ${timeout} ms`), {
        status: 503, expose: true, code: 'ERR_CALLBACK_TIMEOUT',
      });
      reject(reason);
      onTimeout(reason);
      // A result that arrives after the 503 is released, never sent.
      Promise.resolve(result).then((late) => discardMessage(messageOf(late)), () => {});
    }, timeout);
    // A callback that never settles must not keep the process alive once the server is gone.
    timer.unref();
    res.once('close', () => clearTimeout(timer));
    Promise.resolve(result).then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error: unknown) => { clearTimeout(timer); reject(error); },
    );
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  try {
    return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
  } catch {
    // A getter (or Proxy) that throws: not a promise; validation will refuse it.
    return false;
  }
}

/** The `message` of what the callback returned, to release it; a getter that throws must not escape. */
function messageOf(value: unknown): unknown {
  try {
    return (value as { message?: unknown } | null)?.message;
  } catch {
    return undefined;
  }
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
