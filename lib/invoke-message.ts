import { METHODS, validateHeaderName, validateHeaderValue } from 'node:http';
import { Readable } from 'node:stream';
import {
  expectInteger, expectKnownKeys, expectOneOf, expectPlainObject, expectString,
} from './arguments.js';
import type { AnsweredHead } from './callback-answer.js';
import { ArgumentTypeError, ValueError, describe } from './errors.js';
import { createHeaders, type HeaderDict } from './headers.js';
import type { RequestMessage } from './request.js';
import type { ParsedHead } from './request-checks.js';

/**
 * The parsed request `invoke` hands to the server's own code: what Node's
 * parser would have made of the bytes a client sends for an `InvokeRequest`.
 * Like an `IncomingMessage`, it is itself the body's Readable.
 */
export interface InvokeMessage extends RequestMessage, ParsedHead, AnsweredHead {
  readonly url: string;
  readonly method: string;
  readonly rawHeaders: string[];
  readonly headers: HeaderDict;
}

export interface BuiltMessage {
  message: InvokeMessage;
  httpdid: number;
  /** What Node's parser would answer instead of handing the request over (`Connection: close` follows). */
  parserRefusal: { status: number; reason: string } | undefined;
}

const KNOWN = [
  'verb', 'path', 'querystr', 'version', 'headers', 'datastream', 'httpdid', 'remoteipstr', 'remoteportnum',
] as const;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Origin-form (`/a/b`), asterisk-form (`*`) or absolute-form (`http://host/a`), as a client sends it. */
const TARGET = /^(?:\/[\x21-\x7e]*|\*|[A-Za-z][A-Za-z0-9+.-]*:\/\/[\x21-\x7e]*)$/;
const QUERY = /^[\x21-\x7e]*$/;

/**
 * Validates `request` and builds the message a client's bytes would have
 * become. What no client can send (a verb with a space, a header with CR)
 * throws the contract's argument errors; what a client can send but Node's
 * parser refuses (an unknown method, a malformed or doubled Content-Length,
 * Content-Length with Transfer-Encoding) is a `parserRefusal`, answered 400
 * as the server answers it.
 */
export function buildInvokeMessage(input: unknown): BuiltMessage {
  const request = input === undefined ? {} : expectPlainObject('request', input);
  if (request.querydict !== undefined) {
    throw new ValueError(
      'The "request" argument cannot set "querydict": give "querystr" (e.g. \'a=1&b=2\'), which is parsed as the server parses it.',
    );
  }
  expectKnownKeys('The "request" argument', request, KNOWN);
  const given = <T>(key: string, check: (name: string, value: unknown) => T, fallback: T): T =>
    request[key] === undefined ? fallback : check(`request.${key}`, request[key]);

  const verb = given('verb', expectString, 'GET');
  if (!TOKEN.test(verb)) throw new ValueError(`The "request.verb" argument must be an HTTP token. Received ${describe(verb)}`);
  const path = given('path', expectString, '/');
  if (!TARGET.test(path)) {
    throw new ValueError(
      `The "request.path" argument must start with "/" (or be "*" or an absolute URL) and hold visible ASCII only: ` +
      `percent-encode spaces and other characters. Received ${describe(path)}`,
    );
  }
  const querystr = request.querystr === null ? null : given('querystr', expectString, undefined);
  if (typeof querystr === 'string' && !QUERY.test(querystr)) {
    throw new ValueError(`The "request.querystr" argument must hold visible ASCII only: percent-encode the rest. Received ${describe(querystr)}`);
  }
  if (request.querystr !== undefined && path.includes('?')) {
    throw new ValueError('The "request.path" argument holds a "?" while "request.querystr" is given: give the query in one of them.');
  }
  const version = given('version', (n, v) => expectOneOf(n, v, ['0.9', '1.0', '1.1'] as const), '1.1');
  const httpdid = given('httpdid', (n, v) => expectInteger(n, v, 0, Number.MAX_SAFE_INTEGER), 0);
  const remoteAddress = given('remoteipstr', expectString, '127.0.0.1');
  const remotePort = given('remoteportnum', (n, v) => expectInteger(n, v, 0, 65535), 0);

  const rawHeaders = headerLines(request.headers, version);
  const body = bodyOf(request.datastream);
  const parserRefusal = frame(rawHeaders, body) ?? (METHODS.includes(verb) ? undefined : {
    status: 400, reason: `Node's parser refuses the method "${verb}": methods are case-sensitive, and only those in http.METHODS are known`,
  });
  const declared = parserRefusal === undefined ? declaredLength(rawHeaders) : undefined;
  if (declared !== undefined && body.length !== undefined && declared !== body.length) {
    throw new ValueError(
      `The "request.headers" Content-Length (${declared}) disagrees with "request.datastream", which is ${body.length} bytes long. ` +
      'Leave Content-Length out and it is computed.',
    );
  }

  const [major, minor] = version.split('.').map(Number) as [number, number];
  const message: InvokeMessage = Object.assign(bodyStream(body, declared), {
    url: querystr === null || querystr === undefined ? path : `${path}?${querystr}`,
    method: verb,
    httpVersion: version,
    httpVersionMajor: major,
    httpVersionMinor: minor,
    rawHeaders,
    rawTrailers: [],
    headers: createHeaders(rawHeaders),
    socket: { remoteAddress, remotePort },
  });
  return { message, httpdid, parserRefusal };
}

/** The header lines a client sends, names as given; `Host: localhost` unless given (an HTTP/0.9 request has no headers). */
function headerLines(input: unknown, version: string): string[] {
  const headers = input === undefined ? {} : expectPlainObject('request.headers', input);
  const lines: string[] = [];
  if (version !== '0.9' && !Object.keys(headers).some((name) => name.toLowerCase() === 'host')) lines.push('Host', 'localhost');
  for (const [name, value] of Object.entries(headers)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item !== 'string') {
        throw new ArgumentTypeError(
          `The "request.headers['${name}']" argument must be a string or an array of strings. Received ${describe(item)}`,
        );
      }
      try {
        validateHeaderName(name);
        validateHeaderValue(name, item);
      } catch (error) {
        throw new ValueError(`The "request.headers" argument has an invalid header "${name}": ${(error as Error).message}`);
      }
      lines.push(name, item);
    }
  }
  return lines;
}

type Body =
  | { kind: 'none'; length: 0 }
  | { kind: 'bytes'; data: Buffer; length: number }
  | { kind: 'chunks'; source: Iterable<unknown> | AsyncIterable<unknown>; length: undefined };

function bodyOf(datastream: unknown): Body {
  if (datastream === undefined || datastream === null) return { kind: 'none', length: 0 };
  if (typeof datastream === 'string' || datastream instanceof Uint8Array) {
    const data = typeof datastream === 'string' ? Buffer.from(datastream) : Buffer.from(datastream);
    return { kind: 'bytes', data, length: data.length };
  }
  if (typeof datastream === 'object' && (
    typeof (datastream as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' ||
    typeof (datastream as Iterable<unknown>)[Symbol.iterator] === 'function')) {
    return { kind: 'chunks', source: datastream as Iterable<unknown>, length: undefined };
  }
  throw new ArgumentTypeError(
    `The "request.datastream" argument must be a string, bytes, or an (async) iterable of them. Received ${describe(datastream)}`,
  );
}

/**
 * Adds the framing a client adds (Content-Length for bytes, chunked for an
 * iterable) unless the caller framed the body itself, and returns what
 * Node's parser would refuse in the result.
 */
function frame(rawHeaders: string[], body: Body): BuiltMessage['parserRefusal'] {
  const lengths = valuesOf(rawHeaders, 'content-length');
  const codings = valuesOf(rawHeaders, 'transfer-encoding');
  if (lengths.length > 0 && codings.length > 0) {
    return { status: 400, reason: 'Node\'s parser refuses a request with both Content-Length and Transfer-Encoding' };
  }
  if (lengths.length > 1 || (lengths.length === 1 && !/^\d+$/.test(lengths[0]!))) {
    return { status: 400, reason: `Node's parser refuses a malformed or repeated Content-Length (${lengths.join(', ')})` };
  }
  if (lengths.length === 0 && codings.length === 0) {
    if (body.kind === 'chunks') rawHeaders.push('Transfer-Encoding', 'chunked');
    else if (body.kind === 'bytes') rawHeaders.push('Content-Length', String(body.length));
  }
  return undefined;
}

function declaredLength(rawHeaders: string[]): number | undefined {
  const [length] = valuesOf(rawHeaders, 'content-length');
  return length === undefined ? undefined : Number(length);
}

function valuesOf(rawHeaders: string[], lowerName: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === lowerName) values.push(rawHeaders[i + 1]!);
  }
  return values;
}

/** The body as a byte stream; nothing is pulled from an iterable until the callback reads. */
function bodyStream(body: Body, declared: number | undefined): Readable {
  if (body.kind !== 'chunks') return Readable.from(body.kind === 'none' || body.length === 0 ? [] : [body.data], { objectMode: false });
  return Readable.from(checkedChunks(body.source, declared), { objectMode: false });
}

/** Chunks as Buffers; a chunk of another type, or more or fewer bytes than a declared Content-Length, fails the body. */
async function* checkedChunks(source: Iterable<unknown> | AsyncIterable<unknown>, declared: number | undefined): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of source) {
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
      throw new ArgumentTypeError(`The "request.datastream" chunks must be strings or bytes. Received ${describe(chunk)}`);
    }
    const bytes = Buffer.from(chunk as string);
    seen += bytes.length;
    if (declared !== undefined && seen > declared) {
      throw new ValueError(`The "request.datastream" is longer than its Content-Length (${declared} bytes)`);
    }
    if (bytes.length > 0) yield bytes;
  }
  if (declared !== undefined && seen < declared) {
    throw new ValueError(`The "request.datastream" ended after ${seen} of its Content-Length (${declared} bytes)`);
  }
}
