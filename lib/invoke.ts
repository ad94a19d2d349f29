import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expectFunction } from './arguments.js';
import { answerCallback, failureResponse } from './callback-answer.js';
import { isPreflight, preflightHeaders } from './cors.js';
import { HttpError, asError, describe } from './errors.js';
import { headerDictionary } from './headers.js';
import { buildInvokeMessage, type InvokeMessage } from './invoke-message.js';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from './options.js';
import { safelyReport } from './report.js';
import { abortRequest, buildRequest } from './request.js';
import { refusalStatus } from './request-checks.js';
import { discardMessage, enforceLength, openStream } from './response-body.js';
import type { PreparedResponse } from './response-validate.js';
import { framedHeaders, sendsBody } from './response-write.js';
import type { Callback, HttpRequest, OutgoingHeaderValue, ResponseVersion } from './types.js';

/** The request `invoke` hands to a callback, field by field; everything is optional. */
export interface InvokeRequest {
  /** Default `'GET'`. */
  verb?: string;
  /** Default `'/'`. May carry `?query` when `querystr` is not given. */
  path?: string;
  /** Default: the part of `path` after `?`, else `null`. */
  querystr?: string | null;
  /** Default `'1.1'`. */
  version?: '0.9' | '1.0' | '1.1';
  /** Names kept as given; `Host` defaults to `'localhost'`. */
  headers?: Record<string, string | readonly string[]>;
  /** The body: bytes give `Content-Length`, an (async) iterable `Transfer-Encoding: chunked`, unless given. */
  datastream?: string | Uint8Array | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;
  /** Default 0. */
  httpdid?: number;
  /** Default `'127.0.0.1'`. */
  remoteipstr?: string;
  /** Default 0. */
  remoteportnum?: number;
}

/** What the server would have sent, collected. */
export interface InvokeResponse {
  statuscode: number;
  statusmsg: string;
  version: ResponseVersion;
  /** As sent: default headers merged, hop-by-hop ones dropped, framing added (none at all for HTTP/0.9). Looked up case-insensitively. */
  headers: Record<string, string | string[]>;
  /** The body decoded as UTF-8. */
  message: string;
  /** The body's bytes. */
  body: Buffer;
  /** Why the status is not the callback's own: what it threw, the invalid response, a timeout, a refused request. */
  error?: Error;
}


/**
 * Runs `callback` in-process, as a listener with `options` would for a
 * client's request, and resolves to the response it would send, body
 * collected: for unit tests of callbacks, with no socket, port or timer
 * left behind. The request dictionary, the validation, the error statuses,
 * `callbackTimeout` and `onError` are the server's own.
 *
 * Rejects on bad arguments, and when a response body fails midway or
 * disagrees with its `Content-Length` (on the wire the connection would be
 * cut; there is no status to show).
 *
 * @example
 * const response = await invoke(callback, { verb: 'POST', path: '/items', datastream: '{"a":1}' });
 * assert.equal(response.statuscode, 201);
 */
export async function invoke(callback: Callback, request?: InvokeRequest, options?: ServerOptions): Promise<InvokeResponse> {
  expectFunction('callback', callback);
  const resolved = resolveOptions(options);
  const { message, httpdid, parserRefusal } = buildInvokeMessage(request);
  try {
    if (parserRefusal !== undefined) return bareStatus(parserRefusal.status, new HttpError(parserRefusal.status, parserRefusal.reason));
    // CONNECT never reaches a callback: the server has no tunnels to offer.
    if (message.method === 'CONNECT') return bareStatus(501, new HttpError(501, 'The server answers 501 without calling the callback: it offers no CONNECT tunnels'));
    const refusal = refusalStatus(message, resolved);
    if (refusal !== undefined) return refused(refusal, message);

    // A preflight is answered by the server, never by the callback.
    if (isPreflight(resolved.cors, message.method, message.headers)) {
      return { ...bareStatus(204), headers: headerRecord(preflightHeaders(message.headers)) };
    }
    const dictionary = buildRequest(message, {
      httpdid,
      scheme: resolved.tls ? 'https' : 'http',
      query: resolved.query,
      maxBodySize: resolved.maxBodySize,
      onFirstRead: () => {},
    });
    const [response, error] = await new Promise<[PreparedResponse, Error | undefined]>((resolve) => {
      answerCallback(callback, dictionary, message, resolved, (answer, cause) => resolve([answer, cause]));
    });
    return await collect(response, error, message, resolved, dictionary);
  } finally {
    // An unread body is released, as the server destroys it with its connection.
    message.destroy();
  }
}

/**
 * The body as the server would send it. A message that cannot be opened as
 * a stream gets the server's clean 500 instead.
 */
async function collect(
  response: PreparedResponse, error: Error | undefined, message: InvokeMessage, options: ResolvedOptions, request: HttpRequest,
): Promise<InvokeResponse> {
  const withBody = sendsBody(response, message.method === 'HEAD');
  const { body } = response;
  if (!withBody || body.kind !== 'stream') {
    if (body.kind === 'stream') discardMessage(body.source);
    const bytes = !withBody || body.kind !== 'bytes' ? Buffer.alloc(0)
      : typeof body.data === 'string' ? Buffer.from(body.data) : Buffer.from(body.data);
    return result(response, withBody, bytes, error);
  }
  let stream: Readable;
  try {
    stream = openStream(body.source);
  } catch (openError) {
    discardMessage(body.source);
    return collect(failureResponse(openError, message, options, request), asError(openError), message, options, request);
  }
  try {
    return result(response, withBody, await readAll(stream, response.declaredLength), error);
  } catch (bodyError) {
    safelyReport(options.onError, bodyError, request);
    // On the wire the client would see a cut connection, and the callback its signal abort.
    abortRequest(request, asError(bodyError));
    throw bodyError;
  }
}

async function readAll(stream: Readable, declaredLength: number | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = async (source: AsyncIterable<unknown>) => {
    for await (const chunk of source) {
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      else throw new TypeError(`A response body chunk must be a string or bytes. Received ${describe(chunk)}`);
    }
  };
  if (declaredLength === undefined) await pipeline(stream, sink);
  else await pipeline(stream, enforceLength(declaredLength), sink);
  return Buffer.concat(chunks);
}

function result(response: PreparedResponse, withBody: boolean, body: Buffer, error: Error | undefined): InvokeResponse {
  // HTTP/0.9 is the body alone: no status line, no headers.
  const headers = response.version === '0.9' ? {} : headerRecord(framedHeaders(response));
  if (response.version === '1.1' && withBody && response.body.kind === 'stream' && response.declaredLength === undefined) {
    headers['Transfer-Encoding'] = 'chunked';
  }
  const answer: InvokeResponse = {
    statuscode: response.status,
    statusmsg: response.statusMessage,
    version: response.version,
    headers,
    message: body.toString('utf8'),
    body,
  };
  if (error !== undefined) answer.error = error;
  return answer;
}

/** What `refusalStatus` refuses, by status, for the test author who wonders why. */
const REFUSALS: Record<number, string> = {
  400: 'Transfer-Encoding on HTTP/1.0, a missing (HTTP/1.1), repeated or malformed Host, and HTTP/0.9 requests (all of them unless the http09 option is on; with it, those with headers or a verb other than GET)',
  414: 'a target longer than maxUrlLength',
  431: 'more header lines than maxHeaderCount',
  501: 'a transfer coding other than chunked',
  505: 'HTTP versions above 1.1',
};

/** The server's answer to a head it will not hand to a callback (see `request-checks.ts`). */
function refused(status: number, message: InvokeMessage): InvokeResponse {
  const text = `${STATUS_CODES[status] ?? 'Error'}\n`;
  const body = message.method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(text);
  return {
    ...bareStatus(status, new HttpError(status, `The server answers ${status} without calling the callback: it refuses ${REFUSALS[status] ?? 'this request head'}`)),
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) },
    message: body.toString('utf8'),
    body,
  };
}

/** A status with no body, as the server writes it straight to the connection. */
function bareStatus(status: number, error?: Error): InvokeResponse {
  const answer: InvokeResponse = {
    statuscode: status,
    statusmsg: STATUS_CODES[status] ?? 'Error',
    version: '1.1',
    headers: status === 204 ? {} : { 'Content-Length': '0' },
    message: '',
    body: Buffer.alloc(0),
  };
  if (error !== undefined) answer.error = error;
  return answer;
}

/** The response's headers, looked up case-insensitively like `request.headers`, listed as spelled. */
function headerRecord(entries: ReadonlyArray<readonly [string, OutgoingHeaderValue]>): Record<string, string | string[]> {
  return headerDictionary(entries.map(([name, value]) => [name, Array.isArray(value) ? value.map(String) : String(value)] as const));
}
