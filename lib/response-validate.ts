import { STATUS_CODES } from 'node:http';
import { didYouMean } from './arguments.js';
import { ResponseError, describe } from './errors.js';
import { classifyMessage, type Body } from './response-body.js';
import type { OutgoingHeaderValue, RequestVersion, ResponseVersion } from './types.js';

/** A response that passed validation, ready for `writeResponse`. */
export interface PreparedResponse {
  status: number;
  statusMessage: string;
  /** The version on the wire, after downgrading to what the request spoke. */
  version: ResponseVersion;
  /** Final headers, names as the callback spelled them; framing headers are added by the writer. */
  headers: Array<[string, OutgoingHeaderValue]>;
  body: Body;
  /** The callback (or the default headers) asked for `Connection: close`. */
  close: boolean;
  /** A `Content-Length` the callback declared itself. */
  declaredLength: number | undefined;
}

/** What validation needs to know of the request being answered. */
export interface ResponseContext {
  requestVersion: RequestVersion;
  isHead: boolean;
  defaultHeaders: ReadonlyArray<readonly [string, OutgoingHeaderValue]>;
}

const FIELDS = ['statuscode', 'statusmsg', 'version', 'headers', 'message'] as const;

/** Names people reach for out of habit from other frameworks. */
const HABITS: Record<string, string> = {
  status: 'statuscode', statuscode: 'statuscode', code: 'statuscode',
  statusmessage: 'statusmsg', statustext: 'statusmsg', reason: 'statusmsg',
  body: 'message', data: 'message', content: 'message', text: 'message',
  header: 'headers', httpversion: 'version',
};

const VERSIONS: readonly ResponseVersion[] = ['0.9', '1.0', '1.1'];

/** Bytes Node refuses in a header value or reason phrase (CR, LF, NUL and other controls). */
const INVALID_TEXT = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Framing and connection management are the library's job: these callback
 * headers are dropped, not trusted (RFC 9110, section 7.6.1, hop-by-hop
 * fields). `Connection: close` is still honoured: the library then closes
 * the connection and says so itself.
 */
const HOP_BY_HOP = new Set(['transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

/** Headers a body of known length must not contradict. */
const NO_BODY_STATUS = new Set([204, 304]);

/**
 * Checks what a callback returned against the contract and turns it into a
 * `PreparedResponse`. Throws `ResponseError` with a reason a beginner can act
 * on; nothing that fails here reaches the wire.
 */
export function prepareResponse(value: unknown, request: ResponseContext): PreparedResponse {
  const { requestVersion } = request;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ResponseError(
      `The callback must return a response object such as { statuscode: 200, message: 'hello' }. Received ${describe(value)}` +
      (value === undefined ? ' (did the callback forget to return, or return before an await finished?)' : ''),
    );
  }
  const response = value as Record<string, unknown>;
  for (const key of Object.keys(response)) {
    if ((FIELDS as readonly string[]).includes(key)) continue;
    const hint = HABITS[key.toLowerCase()] ?? didYouMean(key, FIELDS);
    throw new ResponseError(
      `The response has an unknown field "${key}".${hint ? ` Did you mean "${hint}"?` : ''} ` +
      `Allowed fields: ${FIELDS.join(', ')}.`,
    );
  }

  const status = response.statuscode;
  if (status === undefined) {
    throw new ResponseError('The response has no "statuscode". Add one, e.g. { statuscode: 200 }.');
  }
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new ResponseError(
      `The response "statuscode" must be an integer from 200 to 599. Received ${describe(status)}` +
      (typeof status === 'number' && status >= 100 && status < 200 ? ' (1xx is not a final status)' : '') +
      (typeof status === 'string' && /^\d{3}$/.test(status) ? ` (a string: write ${status} without quotes)` : ''),
    );
  }

  let statusMessage = STATUS_CODES[status] ?? 'Unknown';
  if (response.statusmsg !== undefined) {
    if (typeof response.statusmsg !== 'string') {
      throw new ResponseError(`The response "statusmsg" must be a string. Received ${describe(response.statusmsg)}`);
    }
    if (INVALID_TEXT.test(response.statusmsg)) {
      throw new ResponseError(
        `The response "statusmsg" must not contain CR, LF, NUL or other control characters. Received ${JSON.stringify(response.statusmsg)}`,
      );
    }
    statusMessage = response.statusmsg;
  }

  let version = effectiveDefault(requestVersion);
  if (response.version !== undefined) {
    if (!(VERSIONS as readonly unknown[]).includes(response.version)) {
      throw new ResponseError(
        `The response "version" must be one of '0.9', '1.0', '1.1'. Received ${describe(response.version)}`,
      );
    }
    version = response.version as ResponseVersion;
  }
  // Seattle semantics: never answer in a newer version than the client spoke.
  if (version === '1.1' && (requestVersion === '1.0' || requestVersion === '0.9')) version = requestVersion;

  const body = classifyMessage(response.message);
  if (typeof body === 'string') {
    throw new ResponseError(
      `The response "message" must be a string, bytes, a stream, an async iterable or a file-like object with read(). Received ${body}`,
    );
  }

  const headers: Array<[string, OutgoingHeaderValue]> = [];
  let close = false;
  let declaredLength: number | undefined;
  let hasContentType = false;
  // One pass over the merged headers, each name lower-cased once (this runs for every response).
  forEachHeader(request.defaultHeaders, response.headers, (name, lower, header) => {
    if (lower === 'connection') close = /(^|,)\s*close\s*(,|$)/i.test(String(header));
    if (HOP_BY_HOP.has(lower)) return;
    if (lower === 'content-type') hasContentType = true;
    else if (lower === 'content-length') declaredLength = parseDeclaredLength(header, body, status, request.isHead);
    headers.push([name, header]);
  });
  if (!hasContentType && body.kind === 'bytes' && typeof body.data === 'string' && body.length > 0) {
    headers.push(['Content-Type', 'text/plain; charset=utf-8']);
  }
  return { status, statusMessage, version, headers, body, close, declaredLength };
}

function effectiveDefault(requestVersion: RequestVersion): ResponseVersion {
  return requestVersion === '2.0' ? '1.1' : requestVersion;
}

/**
 * Calls `visit` for each header to send: the default headers first, less
 * those the callback's headers name too (in any case), then the callback's
 * own, in order, where the last of two spellings of one name wins. The
 * callback's are checked on the way. No Map, no copies: a response usually
 * has a couple of headers and no defaults.
 */
function forEachHeader(
  defaults: ReadonlyArray<readonly [string, OutgoingHeaderValue]>, given: unknown,
  visit: (name: string, lower: string, value: OutgoingHeaderValue) => void,
): void {
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new ResponseError(
      `The response "headers" must be an object such as { 'Content-Type': 'text/html' }. Received ${describe(given)}`,
    );
  }
  const names = given === undefined ? NO_NAMES : Object.keys(given);
  const lowers = names.length === 0 ? NO_NAMES : names.map((name) => name.toLowerCase());
  for (const [name, value] of defaults) {
    const lower = name.toLowerCase();
    if (!lowers.includes(lower)) visit(name, lower, value);
  }
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const value = (given as Record<string, unknown>)[name];
    checkHeader(name, value);
    if (lowers.lastIndexOf(lowers[i]!) === i) visit(name, lowers[i]!, value as OutgoingHeaderValue);
  }
}

const NO_NAMES: string[] = [];

/** RFC 9110 token characters: what Node's own `validateHeaderName` accepts. */
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;

/** The checks Node's `validateHeaderName` and `validateHeaderValue` make, with messages a beginner can act on. */
function checkHeader(name: string, value: unknown): void {
  if (!TOKEN.test(name)) {
    throw new ResponseError(
      `The response header name ${JSON.stringify(name)} is not a valid HTTP token (letters, digits and !#$%&'*+-.^_\`|~ only).`,
    );
  }
  // The common case, one string, without building an array for it.
  if (typeof value === 'string') {
    checkHeaderValue(name, value);
    return;
  }
  if (Array.isArray(value) && value.length === 0) {
    throw new ResponseError(`The response header "${name}" is an empty array; leave the header out instead.`);
  }
  for (const item of Array.isArray(value) ? value : [value]) {
    if (typeof item !== 'string' && !(typeof item === 'number' && Number.isFinite(item))) {
      throw new ResponseError(
        `The response header "${name}" must be a string, a finite number or an array of strings. Received ${describe(item)}`,
      );
    }
    checkHeaderValue(name, String(item));
  }
}

function checkHeaderValue(name: string, value: string): void {
  if (INVALID_TEXT.test(value)) {
    throw new ResponseError(
      `The response header "${name}" must not contain CR, LF, NUL or other control characters. Received ${JSON.stringify(value)}`,
    );
  }
}

function parseDeclaredLength(header: OutgoingHeaderValue, body: Body, status: number, isHead: boolean): number {
  const text = String(Array.isArray(header) ? header.join(',') : header).trim();
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new ResponseError(`The response "Content-Length" must be a non-negative integer. Received ${JSON.stringify(text)}`);
  }
  const declared = Number(text);
  const actual = body.kind === 'bytes' ? body.length : body.kind === 'none' ? 0 : undefined;
  // A 304, or a HEAD answered without a body, may state the length of the representation it stands for.
  const describesOtherBody = NO_BODY_STATUS.has(status) || (isHead && body.kind === 'none');
  if (actual !== undefined && declared !== actual && !describesOtherBody) {
    throw new ResponseError(
      `The response "Content-Length" (${declared}) disagrees with the message, which is ${actual} bytes long. ` +
      'Leave Content-Length out and it is computed for you.',
    );
  }
  return declared;
}
