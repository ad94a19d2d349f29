import type { Stats } from 'node:fs';
import path from 'node:path';
import etag from 'etag';
import mime from 'mime-types';
import type { ServedFile } from './served-file.js';

const FALLBACK_TYPE = 'application/octet-stream';

/**
 * What every static module needs to know about a regular file that already
 * passed the path checks: its type, validators and stat.
 */
export function describeFile(realPath: string, stat: Stats, requestedName: string = realPath): ServedFile {
  return {
    path: realPath,
    stat,
    // The name the client asked for decides, as with nginx: a symlink `latest.css` is CSS whatever it points to.
    contentType: contentTypeOf(requestedName),
    // Strong: the size and the millisecond mtime change with any write that
    // matters in practice (nginx does the same with seconds), and If-Match and
    // If-Range need a strong validator to ever succeed (RFC 9110, 8.8.3.2).
    etag: etag(stat, { weak: false }),
    lastModified: stat.mtime.toUTCString(),
  };
}

/**
 * The Content-Type for a file name, with `charset=utf-8` for text types.
 * Only the extension is looked at: `mime.contentType('html')` would take a
 * file named `html` (no extension) for an HTML page.
 */
export function contentTypeOf(fileName: string): string {
  const extension = path.extname(fileName);
  if (extension === '') return FALLBACK_TYPE;
  return mime.contentType(extension) || FALLBACK_TYPE;
}
