import { Readable } from 'node:stream';
import { HttpError } from '../errors.js';
import type { HttpRequest, HttpResponse, OutgoingHeaders } from '../types.js';
import { checkPreconditions } from './conditional.js';
import { chooseEncoding, compressesWell, encodedStream, type CompressOptions } from './compress.js';
import { closeFile, fileStream } from './file-body.js';
import { answerRange } from './ranges.js';
import type { ServedFile } from './served-file.js';

export interface FileResponseOptions {
  etag: boolean;
  lastModified: boolean;
  /** The Cache-Control value, or undefined for none. */
  cacheControl: string | undefined;
  /** Compress on the fly when the client accepts it; undefined: never. */
  compress: CompressOptions | undefined;
  /** Answer `Range` requests. */
  ranges: boolean;
}

/** Without its headers a request can only say whether it is HEAD (sendFile's old contract). */
type FileRequest = HttpRequest | Pick<HttpRequest, 'verb'>;

/**
 * The answer for one open regular file that passed the path checks, shared
 * by `serveDirectory` and `sendFile`: preconditions (304, 412), then a
 * range, then compression, else the whole file.
 *
 * It owns `file.handle`: every answer either hands it to its body stream
 * (which closes it when it ends or is destroyed) or closes it at once (HEAD,
 * 304, 412, 416), also when this function throws. Size, validators and
 * bytes all come from that one handle, so a file renamed over meanwhile is
 * still sent whole and as described.
 *
 * `storedEncoding` says `file` holds the bytes of a precompressed sibling
 * (`.br`, `.gz`) in that coding: they are sent as they are, with a length,
 * ranges over the encoded bytes, and no further compression.
 */
export function fileResponse(
  request: FileRequest | undefined, file: ServedFile, options: FileResponseOptions, storedEncoding?: 'br' | 'gzip',
): HttpResponse {
  try {
    return answer(request, file, options, storedEncoding);
  } catch (error) {
    closeFile(file);
    throw error;
  }
}

/** Each answer without a body from the file closes the handle before it returns (`bodiless`). */

function answer(request: FileRequest | undefined, file: ServedFile, options: FileResponseOptions, storedEncoding: 'br' | 'gzip' | undefined): HttpResponse {
  const full = request !== undefined && 'headers' in request ? request : undefined;
  const isHead = request?.verb === 'HEAD';
  const headers: OutgoingHeaders = { 'Content-Type': file.contentType };
  if (options.etag) headers.ETag = file.etag;
  if (options.lastModified) headers['Last-Modified'] = file.lastModified;
  if (options.cacheControl !== undefined) headers['Cache-Control'] = options.cacheControl;
  // Caches must key compressible files by Accept-Encoding even when this answer is not compressed.
  const mayCompress = storedEncoding === undefined && options.compress !== undefined && compressesWell(file.contentType);
  if (mayCompress || storedEncoding !== undefined) headers.Vary = 'Accept-Encoding';
  if (storedEncoding !== undefined) headers['Content-Encoding'] = storedEncoding;
  if (options.ranges) headers['Accept-Ranges'] = 'bytes';

  if (full !== undefined) {
    // Negotiated only when the client names encodings: the compression module is not asked otherwise.
    const negotiate = () => mayCompress && full.headers['accept-encoding'] !== undefined
      ? chooseEncoding(full, file, options.compress!)
      : undefined;
    // Range is defined for GET only (RFC 9110, 14.2); the range module handles If-Range.
    const wantsRange = options.ranges && full.verb === 'GET' && full.headers.range !== undefined;
    // Preconditions compare with the file's own tag: If-Match is about the file, whatever encoding would be sent.
    const outcome = checkPreconditions(full, { etag: headers.ETag as string | undefined, lastModified: headers['Last-Modified'] as string | undefined });
    if (outcome === 'failed') throw new HttpError(412, 'Precondition Failed');
    if (outcome === 'not-modified') {
      // The 304 must carry the tag the 200 would have had, or a cache would not match it to its stored copy.
      if (!wantsRange && negotiate() !== undefined) weakenTag(headers);
      return bodiless(file, { statuscode: 304, headers: notModifiedHeaders(headers) });
    }

    if (wantsRange) {
      const partial = answerRange(full, file, headers);
      if (partial !== undefined) return partial;
    }

    const encoding = negotiate();
    if (encoding !== undefined) {
      weakenTag(headers);
      headers['Content-Encoding'] = encoding;
      // HEAD gets an empty stream rather than no message: with no message the library would
      // state Content-Length: 0, and the compressed length is not known before compressing.
      if (isHead) return bodiless(file, { statuscode: 200, headers, message: Readable.from([]) });
      return { statuscode: 200, headers, message: encodedStream(file, encoding) };
    }
  }

  headers['Content-Length'] = file.stat.size;
  // No known end: a file that grows in place while it is sent then fails the library's
  // Content-Length check (reported, connection closed) instead of ending as if complete.
  if (isHead) return bodiless(file, { statuscode: 200, headers });
  return { statuscode: 200, headers, message: fileStream(file) };
}

function bodiless(file: ServedFile, response: HttpResponse): HttpResponse {
  closeFile(file);
  return response;
}

/**
 * The encoded bytes are another representation: their tag becomes weak, as
 * nginx does, so If-None-Match (weak comparison) still revalidates them and
 * a strong comparison never takes them for the file's own bytes.
 */
function weakenTag(headers: OutgoingHeaders): void {
  if (typeof headers.ETag === 'string' && !headers.ETag.startsWith('W/')) headers.ETag = `W/${headers.ETag}`;
}

/** A 304 carries the validators and caching fields a 200 would have had (RFC 9110, 15.4.5), no body metadata. */
function notModifiedHeaders(headers: OutgoingHeaders): OutgoingHeaders {
  const kept: OutgoingHeaders = {};
  for (const name of ['ETag', 'Last-Modified', 'Cache-Control', 'Vary']) {
    if (headers[name] !== undefined) kept[name] = headers[name]!;
  }
  return kept;
}
