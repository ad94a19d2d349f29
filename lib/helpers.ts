import { basename } from 'node:path';
import { ArgumentTypeError, describe } from './errors.js';
import { expectInteger, expectString } from './arguments.js';
import { openServedFile } from './static/file-info.js';
import { fileResponse } from './static/file-response.js';
import type { HttpRequest, HttpResponse, OutgoingHeaders } from './types.js';

/**
 * Builders for common responses. Each returns a plain response object, so
 * the result can be printed, inspected in a test, or edited before it is
 * returned.
 */

/** A `text/plain` response. */
export function text(body: string, status = 200, headers: OutgoingHeaders = {}): HttpResponse {
  return withType(String(body), status, headers, 'text/plain; charset=utf-8');
}

/** A `text/html` response. */
export function html(body: string, status = 200, headers: OutgoingHeaders = {}): HttpResponse {
  return withType(String(body), status, headers, 'text/html; charset=utf-8');
}

/** `value` serialised as JSON, with `application/json`. */
export function json(value: unknown, status = 200, headers: OutgoingHeaders = {}): HttpResponse {
  let body: string | undefined;
  try {
    body = JSON.stringify(value);
  } catch (error) {
    // Circular structures and BigInts: name the argument like every other argument error.
    throw Object.assign(new ArgumentTypeError(`The "value" argument cannot be serialised as JSON: ${(error as Error).message}`), { cause: error });
  }
  if (body === undefined) {
    throw new ArgumentTypeError(`The "value" argument cannot be serialised as JSON. Received ${describe(value)}`);
  }
  return withType(body, status, headers, 'application/json; charset=utf-8');
}

/** A redirect to `location` (302 by default; 301, 303, 307 and 308 also make sense). */
export function redirect(location: string, status = 302): HttpResponse {
  expectString('location', location);
  expectInteger('status', status, 300, 399);
  return {
    statuscode: status,
    headers: { Location: encodeLocation(location) },
    message: '',
  };
}

/**
 * The file at `path` (no directory listing, no path checks: the caller
 * chose the path). Sends `Content-Type`, `Content-Length` and
 * `Last-Modified`; a HEAD request gets the same head and no body.
 * Given the whole request, it answers like `serveDirectory` does for one
 * file: `ETag`, conditional requests (304, 412) and ranges.
 * Rejects with `HttpError` 404 when there is no such file, 403 when it cannot
 * be read, 503 when the process is out of file descriptors.
 */
export async function sendFile(path: string, request?: Pick<HttpRequest, 'verb'>): Promise<HttpResponse> {
  expectString('path', path);
  // Opened first, described from fstat of the handle and sent from it: a file renamed over
  // meanwhile cannot be sent under the old one's length and ETag. Not a regular file: 404.
  const file = await openServedFile(path, basename(path), true);
  // Validators and ranges only mean something when the request's headers can be read.
  const withHeaders = request !== undefined && 'headers' in request;
  return fileResponse(request, file, {
    etag: withHeaders, lastModified: true, cacheControl: undefined, compress: undefined, ranges: withHeaders,
  });
}

function withType(body: string, status: number, headers: OutgoingHeaders, type: string): HttpResponse {
  expectInteger('status', status, 200, 599);
  const hasType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
  return {
    statuscode: status,
    headers: hasType ? { ...headers } : { 'Content-Type': type, ...headers },
    message: body,
  };
}

/**
 * Percent-encodes what may not appear in a URL (spaces, non-ASCII, CR/LF, a stray `%`) and
 * keeps the `%XX` escapes already there: decoding first would turn `q=a%26b` into `q=a%2526b`.
 * `[` and `]` stay, for IPv6 hosts.
 */
function encodeLocation(location: string): string {
  return location
    .split(/(%[0-9A-Fa-f]{2})/)
    .map((part, index) => (index % 2 === 1 ? part : encodeURI(part).replace(/%5B/g, '[').replace(/%5D/g, ']')))
    .join('');
}
