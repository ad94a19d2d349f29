/**
 * Precompressed siblings: `app.js.br` and `app.js.gz` beside `app.js`, made
 * ahead of time (at brotli's best quality, say), sent instead of the file
 * to a client that accepts their coding, as `http-server -b -g` and sirv do.
 */
import type { HttpRequest } from '../types.js';
import { acceptedEncodings } from './compress.js';
import type { ServedFile } from './served-file.js';

/** The codings a sibling may be stored in. */
export type StoredEncoding = 'br' | 'gzip';

const SUFFIXES: Record<StoredEncoding, string> = { br: '.br', gzip: '.gz' };

/** A sibling found and opened, ready for `fileResponse(request, file, options, encoding)`. */
export interface Precompressed {
  encoding: StoredEncoding;
  file: ServedFile;
}

/**
 * The sibling to send for `requestedName`, or undefined for the file itself.
 * Codings are tried in the client's order of preference (Accept-Encoding q,
 * then br before gzip); the first whose sibling `openSibling` finds wins.
 * The walk stops at `identity` when the client ranks it higher, and a name
 * that is itself a `.br` or `.gz` file is sent as it is (no `x.gz.gz`).
 *
 * `openSibling(suffix)` must apply the full path checks to the sibling (it
 * is a file in the root like any other) and resolve undefined when there
 * is none; the sibling's Content-Type is the original's.
 *
 * The sibling keeps its own validators, with the coding added to its ETag:
 * it is another representation with other bytes, and ranges and If-Range
 * on it address those bytes.
 */
export async function findPrecompressed(
  request: HttpRequest, requestedName: string, openSibling: (suffix: string) => Promise<ServedFile | undefined>,
): Promise<Precompressed | undefined> {
  const accept = request.headers['accept-encoding'];
  if (typeof accept !== 'string' || /\.(br|gz)$/i.test(requestedName)) return undefined;
  for (const coding of acceptedEncodings(accept)) {
    if (coding === 'identity') return undefined;
    if (coding !== 'br' && coding !== 'gzip') continue;
    const file = await openSibling(SUFFIXES[coding]);
    if (file !== undefined) return { encoding: coding, file: { ...file, etag: `${file.etag.slice(0, -1)}-${coding}"` } };
  }
  return undefined;
}
