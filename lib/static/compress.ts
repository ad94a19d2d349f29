/**
 * On-the-fly compression of static files: which content coding to use
 * (RFC 9110, section 12.5.3, Accept-Encoding) and the compressed bytes.
 */
import { pipeline, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import compressible from 'compressible';
import Negotiator from 'negotiator';
import type { HttpRequest } from '../types.js';
import { fileStream } from './file-body.js';
import type { ServedFile } from './served-file.js';

export type Encoding = 'br' | 'gzip' | 'deflate';

export interface CompressOptions {
  /** Largest file compressed on the fly, in bytes (httpout's zmax). */
  maxSize: number;
  /** Smallest file worth compressing, in bytes. */
  minSize: number;
}

/**
 * Our codings, best first: at equal q the client gets brotli (smallest),
 * then gzip, then deflate. `identity` is in the list so that a client that
 * ranks it above every coding (`gzip;q=0.5, identity`) gets the plain file.
 */
const PREFERENCE = ['br', 'gzip', 'deflate', 'identity'];

/** What `Negotiator#encodings` accepts since negotiator 1.0; @types/negotiator still describes 0.6. */
type EncodingsWithPreference = (available: readonly string[], options: { preferred: readonly string[] }) => string[];

/**
 * Whether a type is worth compressing on the fly. The rule: what the
 * `compressible` package (mime-db's `compressible` flag) says yes to, which
 * covers text/*, JSON, JavaScript, XML, SVG and the like, except
 * `application/octet-stream`: mime-db flags it compressible, but it is the
 * type of every file whose type is unknown (no extension, an odd one) and of
 * most binary downloads, which are often compressed already. Unknown types
 * (`compressible` answers undefined) and types flagged false (images,
 * archives, video, fonts in woff2) are not compressed either.
 */
export function compressesWell(contentType: string): boolean {
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/octet-stream') return false;
  return compressible(type) === true;
}

/**
 * The encoding to send `file` with, negotiated from Accept-Encoding, or undefined for identity.
 *
 * Undefined when the type does not compress (images, archives, video are
 * compressed already), when the file is below `minSize` (the coding's own
 * header and the chunked framing outweigh the saving) or above `maxSize`
 * (compression costs CPU per request, and a compressed stream has no
 * Content-Length and no ranges), when there is no Accept-Encoding at all
 * (RFC 9110 would allow any coding then, but clients that send none are
 * often ones that cannot decode; every common server stays with identity),
 * and when the client prefers identity.
 */
export function chooseEncoding(request: HttpRequest, file: ServedFile, options: CompressOptions): Encoding | undefined {
  if (!compressesWell(file.contentType)) return undefined;
  const size = file.stat.size;
  if (size < options.minSize || size > options.maxSize) return undefined;
  const accept = request.headers['accept-encoding'];
  if (typeof accept !== 'string') return undefined;

  const best = acceptedEncodings(accept)[0];
  // No acceptable coding at all (e.g. `identity;q=0` with nothing else we speak):
  // identity is still sent, as most servers do, rather than a 406 for a static file.
  return best === 'br' || best === 'gzip' || best === 'deflate' ? best : undefined;
}

/**
 * Our codings and `identity` that `accept` (an Accept-Encoding value)
 * allows, the client's favourite first: sorted by q, then by PREFERENCE;
 * codings the client refuses (q=0) are left out.
 */
export function acceptedEncodings(accept: string): string[] {
  const negotiator = new Negotiator({ headers: { 'accept-encoding': accept } });
  return (negotiator.encodings as unknown as EncodingsWithPreference).call(negotiator, PREFERENCE, { preferred: PREFERENCE });
}

/**
 * The file's bytes, compressed with `encoding`, as one Readable. The file
 * stream and the encoder are joined with `stream.pipeline`, so a read error
 * destroys the encoder with that error (the response is then cut short
 * rather than ending as if complete), and a consumer that destroys the
 * returned stream also closes the file.
 *
 * Levels suit compressing per request, as nginx (gzip_comp_level 1 to 6)
 * and the `compression` middleware (zlib's default, 6) choose them: brotli
 * quality 4 and gzip/deflate level 6. Brotli's own default is its maximum,
 * 11, meant for assets compressed once ahead of time: it costs many times
 * the CPU of quality 4 for a few percent less, so under concurrent requests
 * it makes every answer slow. Quality 4 still beats gzip 6 in size at a
 * similar speed. Files worth quality 11 are better precompressed (`.br`
 * siblings, which `serveDirectory` sends as they are). `deflate` is the zlib format, which is
 * what the HTTP coding name means (RFC 9110, section 8.4.1.2), not raw deflate.
 */
export function encodedStream(file: ServedFile, encoding: Encoding): Readable {
  const encoder = createEncoder(file, encoding);
  // The error reaches the consumer through the encoder's own 'error' event; the callback only keeps
  // pipeline from treating it as unhandled.
    // The file stream closes the handle when it ends, or when pipeline destroys it (an encoder error,
  // a consumer that destroyed the returned stream).
  return pipeline(fileStream(file), encoder, () => {});
}

function createEncoder(file: ServedFile, encoding: Encoding): zlib.Gzip | zlib.Deflate | zlib.BrotliCompress {
  switch (encoding) {
    case 'br':
      return zlib.createBrotliCompress({
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: 4,
          // The size lets the encoder pick a window no larger than needed.
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: file.stat.size,
          [zlib.constants.BROTLI_PARAM_MODE]: /^text\//i.test(file.contentType)
            ? zlib.constants.BROTLI_MODE_TEXT
            : zlib.constants.BROTLI_MODE_GENERIC,
        },
      });
    case 'gzip':
      return zlib.createGzip({ level: 6 });
    case 'deflate':
      return zlib.createDeflate({ level: 6 });
    default:
      throw new TypeError(`Unknown content coding ${JSON.stringify(encoding)}`);
  }
}
