/**
 * Byte-range answers for static files (RFC 9110, section 14): 206 with one
 * range, 206 `multipart/byteranges` with several, 416 when none of them
 * overlaps the file, and `undefined` ("send the whole file") whenever the
 * Range header is to be ignored.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import parseRange from 'range-parser';
import type { HttpRequest, HttpResponse, OutgoingHeaders } from '../types.js';
import { closeFile, closeWith, filePart, fileStream } from './file-body.js';
import type { ServedFile } from './served-file.js';

/**
 * Most ranges served in one answer, after overlapping and adjacent ranges
 * are merged. Real clients (PDF viewers, media players, download resumers)
 * ask for one range or a handful; a long list of small ranges is what RFC
 * 9110 section 14.2 names as a denial-of-service pattern, since every part
 * costs a file open, a seek and part headers.
 */
export const MAX_RANGES = 16;

/**
 * Most comma-separated range specs looked at before the header is ignored
 * without parsing. Parsing and merging cost O(n log n) in the number of
 * specs and allocate an object per spec; the request head size limit
 * bounds n too, but a server may raise that limit, so this cap keeps the
 * work per request small whatever the options. (Apache's MaxRanges
 * default is also 200.)
 */
export const MAX_RANGE_SPECS = 200;

/**
 * The answer to a `Range` request for `file`, or `undefined` when the full
 * file should be sent (no Range, not GET, an `If-Range` that does not match,
 * a range type other than bytes). `headers` are the headers the full answer
 * would carry (ETag, Last-Modified, Cache-Control, ...); they are kept.
 * A 206 hands the file's handle to its body, a 416 closes it; with
 * `undefined` it stays open for the caller's full answer.
 *
 * Hostile range sets get the full file (200, via `undefined`), never 416:
 * ignoring Range is always allowed (RFC 9110, section 14.2) and always gives
 * a legitimate client the bytes it wants, whereas 416 would falsely claim
 * that none of the ranges is inside the file. The full answer costs the same
 * as a plain GET, which any client may send anyway, so a long range list
 * buys an attacker nothing. The rules:
 *  - more than MAX_RANGE_SPECS specs: ignored before parsing;
 *  - overlapping and adjacent ranges are merged (range-parser `combine`),
 *    so no byte is sent twice and the parts never add up to more than the
 *    file; `bytes=0-,0-,0-` is one range;
 *  - more than MAX_RANGES ranges left after merging: ignored.
 */
export function answerRange(request: HttpRequest, file: ServedFile, headers: OutgoingHeaders): HttpResponse | undefined {
  // Range only applies to GET (RFC 9110, section 14.2); HEAD describes the full answer.
  if (request.verb !== 'GET') return undefined;
  const range = request.headers['range'];
  if (typeof range !== 'string') return undefined;

  const equals = range.indexOf('=');
  if (equals === -1) return undefined; // malformed: ignored
  // Range units are case-insensitive (RFC 9110, section 14.1); any unit but bytes is ignored.
  if (range.slice(0, equals).trim().toLowerCase() !== 'bytes') return undefined;
  if (countSpecs(range, equals) > MAX_RANGE_SPECS) return undefined;

  if (!ifRangeMatches(request.headers['if-range'], file)) return undefined;

  const size = file.stat.size;
  const header = clampSuffixes(range, equals, size);
  // An empty file can satisfy only a suffix range, and a 206 cannot express zero bytes: send the (empty) whole.
  if (header === undefined) return undefined;
  const ranges = parseRange(size, header, { combine: true });
  // -2: syntactically invalid. A server ignores a Range it cannot parse (RFC 9110, section 14.2).
  if (ranges === -2) return undefined;
  if (ranges === -1) {
    // No range overlaps the file. The body is empty, so the file's
    // Content-Type and Content-Length do not describe it.
    closeFile(file);
    return {
      statuscode: 416,
      headers: {
        ...without(headers, ['content-length', 'content-type', 'content-range']),
        'Content-Range': `bytes */${size}`,
      },
      message: '',
    };
  }
  if (ranges.length > MAX_RANGES) return undefined;

  if (ranges.length === 1) {
    const { start, end } = ranges[0]!;
    const kept = without(headers, ['content-length', 'content-range', 'accept-ranges']);
    return {
      statuscode: 206,
      headers: {
        ...(hasHeader(kept, 'content-type') ? {} : { 'Content-Type': file.contentType }),
        ...kept,
        'Accept-Ranges': 'bytes',
        'Content-Range': `bytes ${start}-${end}/${size}`,
        'Content-Length': end - start + 1,
      },
      message: fileStream(file, start, end),
    };
  }
  return multipart(file, ranges, headers);
}

/** Specs in the header after `=`: one more than its commas, counted without splitting (no allocation). */
function countSpecs(range: string, from: number): number {
  let count = 1;
  for (let at = range.indexOf(',', from); at !== -1 && count <= MAX_RANGE_SPECS; at = range.indexOf(',', at + 1)) count++;
  return count;
}

/**
 * The Range header with every suffix range longer than the file shortened
 * to the whole file, as RFC 9110 section 14.1.3 says ("the entire
 * representation is used"); range-parser 1.3 instead drops such a range,
 * so `bytes=-100000` on a smaller file would wrongly be answered 416.
 * `undefined` when the file is empty and a non-zero suffix is asked for.
 */
function clampSuffixes(range: string, equals: number, size: number): string | undefined {
  const specs = range.slice(equals + 1).split(',');
  let changed = false;
  for (let i = 0; i < specs.length; i++) {
    const suffix = /^\s*-\s*(\d+)\s*$/.exec(specs[i]!);
    if (suffix === null || Number(suffix[1]) <= size) continue;
    if (size === 0) return undefined;
    specs[i] = `-${size}`;
    changed = true;
  }
  return changed ? `${range.slice(0, equals)}=${specs.join(',')}` : range;
}

/**
 * Whether `If-Range` lets the Range through (RFC 9110, section 13.1.5): absent,
 * or a validator that matches the current file. An entity tag must match by
 * strong comparison (so a weak tag, on either side, never matches); a date
 * must equal Last-Modified and be a strong validator, i.e. the file was last
 * modified at least a second before now: a file changed within the current
 * second could change again without its Last-Modified changing.
 */
function ifRangeMatches(ifRange: string | undefined, file: ServedFile): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) {
    return !value.startsWith('W/') && !file.etag.startsWith('W/') && value === file.etag;
  }
  const asked = Date.parse(value);
  const modified = Date.parse(file.lastModified);
  if (Number.isNaN(asked) || Number.isNaN(modified) || asked !== modified) return false;
  return file.stat.mtimeMs <= Date.now() - 1000;
}

/**
 * A 206 `multipart/byteranges` answer (RFC 9110, section 14.6). Each part is
 * `--boundary`, its Content-Type and Content-Range, a blank line and the
 * bytes; parts are separated by CRLF and the body ends with
 * `--boundary--`. The Content-Length is computed up front from the ranges,
 * so the library can check that the file delivered exactly that much.
 */
function multipart(file: ServedFile, ranges: readonly parseRange.Range[], headers: OutgoingHeaders): HttpResponse {
  // 96 random bits: a boundary that occurs in the file's bytes by chance is not a practical concern.
  const boundary = randomBytes(12).toString('hex');
  const size = file.stat.size;
  const parts = ranges.map(({ start, end }, index) => ({
    start,
    end,
    head: Buffer.from(
      `${index === 0 ? '' : '\r\n'}--${boundary}\r\n` +
      `Content-Type: ${file.contentType}\r\n` +
      `Content-Range: bytes ${start}-${end}/${size}\r\n\r\n`,
      'latin1',
    ),
  }));
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  let length = tail.length;
  for (const part of parts) length += part.head.length + part.end - part.start + 1;

  // Every part reads the one open handle, which the body stream closes when
  // it closes (done, destroyed, or failed), even if it was never read. A
  // read error rejects the generator and so errors the body stream; a
  // client that goes away destroys the body, which returns the generator
  // and, through for-await, destroys the part stream being read.
  async function* body(): AsyncGenerator<Buffer> {
    for (const part of parts) {
      yield part.head;
      yield* filePart(file, part.start, part.end);
    }
    yield tail;
  }

  return {
    statuscode: 206,
    headers: {
      ...without(headers, ['content-length', 'content-type', 'content-range', 'accept-ranges']),
      'Accept-Ranges': 'bytes',
      'Content-Type': `multipart/byteranges; boundary=${boundary}`,
      'Content-Length': length,
    },
    message: closeWith(file, Readable.from(body(), { objectMode: false })),
  };
}

/** `headers` without the named fields, compared case-insensitively (`names` in lower case). */
function without(headers: OutgoingHeaders, names: readonly string[]): OutgoingHeaders {
  const kept: OutgoingHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!names.includes(name.toLowerCase())) kept[name] = value;
  }
  return kept;
}

function hasHeader(headers: OutgoingHeaders, lower: string): boolean {
  return Object.keys(headers).some((name) => name.toLowerCase() === lower);
}
