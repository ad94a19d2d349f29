import { STATUS_CODES } from 'node:http';
import { corsHeaders, type CorsRequestHeaders } from './cors.js';
import { ResponseError, asError, isError, readSafely, safeString, statusOf } from './errors.js';
import { setLiveTimeout } from './live-timer.js';
import type { ResolvedOptions } from './options.js';
import { safelyReport } from './report.js';
import { abortRequest } from './request.js';
import { discardMessage } from './response-body.js';
import { prepareResponse, type PreparedResponse, type ResponseContext } from './response-validate.js';
import type { Callback, HttpRequest, OutgoingHeaderValue, RequestVersion } from './types.js';

/**
 * Turns what a callback did (returned, resolved, threw, rejected, took too
 * long) into the `PreparedResponse` to send. The listener and `invoke` both
 * answer through here, so a callback meets the same rules with or without
 * a socket.
 */

/** What answering reads of the parsed request: Node's `IncomingMessage` fits. */
export interface AnsweredHead {
  readonly method?: string | undefined;
  readonly httpVersion: string;
  readonly headers: CorsRequestHeaders;
}

/** The response of a connection: once it closes, no one waits for the callback's answer any more. */
export interface Exchange {
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Runs `callback` for `request` and calls `deliver` exactly once with the
 * response: the callback's own when it validates; otherwise the status a
 * thrown error asks for, a generic 500 (invalid response, other throws) or
 * a 503 (`callbackTimeout`), with the cause as `error`. Synchronous callbacks
 * are answered in the same tick: no promise, no timer.
 *
 * Without an `exchange` (`invoke`), nothing else keeps the process alive
 * while the callback runs, so the `callbackTimeout` timer does.
 */
export function answerCallback(
  callback: Callback, request: HttpRequest, head: AnsweredHead, options: ResolvedOptions,
  deliver: (response: PreparedResponse, error?: Error) => void, exchange?: Exchange,
): void {
  const respond = (value: unknown) => {
    let response: PreparedResponse;
    try {
      response = prepareResponse(value, responseContext(options, head));
    } catch (error) {
      discardMessage(messageOf(value));
      fail(error);
      return;
    }
    deliver(response);
  };
  const fail = (error: unknown) => deliver(failureResponse(error, head, options, request), asError(error));

  let result: unknown;
  try {
    result = callback(request);
  } catch (error) {
    fail(error);
    return;
  }
  if (!isThenable(result)) {
    respond(result);
    return;
  }
  awaitCallback(result, options.callbackTimeout, exchange, (reason) => abortRequest(request, reason)).then(respond, fail)
    .catch((error: unknown) => safelyReport(options.onError, error, request));
}

/**
 * The response for a callback that threw (or a response that could not be
 * sent). A bug is reported to `onError` even when no one will see the 500;
 * a 4xx is the client's business and is not.
 */
export function failureResponse(
  error: unknown, head: AnsweredHead, options: ResolvedOptions, request: HttpRequest,
): PreparedResponse {
  const status = statusOf(error);
  if (status === undefined || status >= 500) safelyReport(options.onError, error, request);
  return errorResponse(error, status ?? 500, options, head);
}

/** Validation's view of the request, with the default and CORS headers every response gets. */
export function responseContext(options: ResolvedOptions, head: AnsweredHead): ResponseContext {
  const cors = corsHeaders(options.cors, head.headers);
  const defaultHeaders: ReadonlyArray<readonly [string, OutgoingHeaderValue]> =
    cors === undefined ? options.headers : [...options.headers, ...cors];
  return { requestVersion: head.httpVersion as RequestVersion, isHead: head.method === 'HEAD', defaultHeaders };
}

/**
 * The http-errors convention decides what the client may see: 4xx messages
 * are shown, 5xx bodies stay generic unless the error says `expose: true`
 * or the listener has `exposeErrors`.
 */
function errorResponse(error: unknown, status: number, options: ResolvedOptions, head: AnsweredHead): PreparedResponse {
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
  const context = responseContext(options, head);
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
  result: PromiseLike<unknown>, timeout: number, exchange: Exchange | undefined, onTimeout: (reason: Error) => void,
): Promise<unknown> {
  if (timeout === 0) return Promise.resolve(result);
  return new Promise((resolve, reject) => {
    // Time the event loop was blocked (by another callback, say) is not this callback's to answer for.
    const timer = setLiveTimeout(() => {
      const reason = Object.assign(new Error(`The callback did not answer within ${timeout} ms`), {
        status: 503, expose: true, code: 'ERR_CALLBACK_TIMEOUT',
      });
      reject(reason);
      onTimeout(reason);
      // A result that arrives after the 503 is released, never sent.
      Promise.resolve(result).then((late) => discardMessage(messageOf(late)), () => {});
    }, timeout);
    if (exchange !== undefined) {
      // A callback that never settles must not keep the process alive once the server is gone.
      timer.unref();
      exchange.once('close', () => clearTimeout(timer));
    }
    Promise.resolve(result).then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error: unknown) => { clearTimeout(timer); reject(error); },
    );
  });
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
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
