import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import etag from 'etag';
import mime from 'mime-types';
import { HttpError } from '../errors.js';
import type { ServedFile } from './served-file.js';

const FALLBACK_TYPE = 'application/octet-stream';

/**
 * O_NOFOLLOW: the path is a real path already (symlinks resolved), so a
 * symlink found there now was put in since the check, and is not followed.
 * O_NONBLOCK: a FIFO swapped in since the stat would otherwise block the
 * open (and a thread of libuv's pool) until some writer came; for regular
 * files it changes nothing. Both are 0 where the platform lacks them.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/** How long a client is asked to wait when the server is out of file descriptors. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Opens a regular file that passed the path checks and describes it from
 * `fstat` of the open handle, so that size, ETag and bytes all come from
 * one and the same file even when the name is renamed over at any moment
 * afterwards. The caller owns the handle (`fileResponse` closes it).
 * `followLinks` is for `sendFile`, whose caller chose the path as it is.
 *
 * Refusals, all before any head is sent: 404 when the file is gone or is no
 * longer a regular file, 403 when the server may not read it (EACCES,
 * EPERM), 503 with `Retry-After` when the process or system is out of file
 * descriptors (EMFILE, ENFILE): a passing condition, not the file's fault.
 */
export async function openServedFile(realPath: string, requestedName: string = realPath, followLinks = false): Promise<ServedFile> {
  let handle;
  try {
    handle = await open(realPath, followLinks ? OPEN_FLAGS : OPEN_FLAGS | NO_FOLLOW);
  } catch (error) {
    throw openError(error);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new HttpError(404, 'Not Found');
    return { ...describeStats(stat, requestedName), path: realPath, handle, stat };
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

/** The HTTP answer for a failed open; anything unexpected stays a 500 reported to `onError`. */
export function openError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ELOOP':
    case 'ENXIO':
      return new HttpError(404, 'Not Found', { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new HttpError(403, 'Forbidden', { cause: error });
    case 'EMFILE':
    case 'ENFILE':
      return new HttpError(503, 'Service Unavailable', {
        headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) }, cause: error,
      });
    default:
      return error;
  }
}

/** Type and validators of a file from its stat: what GET sends, and what conditional writes compare with. */
export function describeStats(stat: Stats, requestedName: string): Pick<ServedFile, 'contentType' | 'etag' | 'lastModified'> {
  return {
    // The name the client asked for decides, as with nginx: a symlink `latest.css` is CSS whatever it points to.
    contentType: contentTypeOf(requestedName),
    etag: strongTag(stat),
    lastModified: stat.mtime.toUTCString(),
  };
}

/**
 * Strong: the size and the millisecond mtime change with any write that
 * matters in practice (nginx does the same with seconds), and If-Match and
 * If-Range need a strong validator to ever succeed (RFC 9110, 8.8.3.2).
 */
export function strongTag(stat: Stats): string {
  return etag(stat, { weak: false });
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
