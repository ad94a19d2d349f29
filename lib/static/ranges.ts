import type { HttpRequest, HttpResponse, OutgoingHeaders } from '../types.js';
import type { ServedFile } from './served-file.js';

/**
 * The answer to a `Range` request for `file`, or `undefined` when the full
 * file should be sent (no Range, not GET, an `If-Range` that does not match,
 * a range type other than bytes). `headers` are the headers the full answer
 * would carry (ETag, Last-Modified, Cache-Control, ...); they are kept.
 */
export function answerRange(request: HttpRequest, file: ServedFile, headers: OutgoingHeaders): HttpResponse | undefined {
  void request; void file; void headers;
  throw new Error('ranges.ts: not built yet');
}
