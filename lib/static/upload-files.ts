/**
 * The file-system steps every upload shares (PUT, POST, multipart POST):
 * the name rules, hidden temp files created with O_EXCL and O_NOFOLLOW,
 * full writes, fsync, the final rename or no-clobber link, and the
 * mapping of file-system errors to statuses.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { link, lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { HttpError } from '../errors.js';
import type { HttpRequest } from '../types.js';

const TEMP_SUFFIX = '.upload';
// Our own temp names (`.<name>.<16 hex>.upload`): a client that may address dotfiles
// must still not overwrite or delete another upload's temp file in flight.
const TEMP_NAME = /^\..*\.[0-9a-f]{16}\.upload$/;
// Most file systems cap one name at 255 bytes; the temp name must fit as well.
const NAME_MAX = 255;

/**
 * The rules for the name of a stored file, the same whether it came from
 * the URL of a PUT or from the filename of a form's file part: one plain
 * name (no separator, not `.` or `..`), no NUL or other control character
 * (they garble listings and terminals, and some file systems refuse them),
 * no dotfile unless `dotfiles`, not one of our temp names, at most 255
 * bytes. A bad name is refused, never changed into another one: the client
 * must learn that its file is not stored under the name it gave.
 */
export function checkStoredName(name: string, dotfiles: boolean): void {
  if (name === '' || name === '.' || name === '..' || /[/\\]/.test(name)) {
    throw new HttpError(400, 'A file name must be one plain name, without a path');
  }
  if (/[\x00-\x1f\x7f]/.test(name)) throw new HttpError(400, 'A file name must not contain control characters');
  if (TEMP_NAME.test(name)) throw new HttpError(403, 'This name is reserved for uploads in progress');
  if (!dotfiles && name.startsWith('.')) throw new HttpError(403, 'Names starting with "." are not accepted here');
  if (Buffer.byteLength(name) > NAME_MAX) throw new HttpError(414, 'The name is too long');
}

/** A hidden temp file beside `name` in `dir`, created new (O_EXCL: nothing, no symlink either, is followed or clobbered). */
export async function createTemp(dir: string, name: string): Promise<{ temp: string; handle: FileHandle }> {
  const temp = path.join(dir, tempName(name));
  const handle = await fsCall(() => open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666));
  return { temp, handle };
}

/**
 * `.<name>.<random>.upload`, beside the target so that the rename never
 * crosses a file system, and hidden so that it is never served while
 * dotfiles are. A long name is cut so that the temp name still fits.
 */
function tempName(name: string): string {
  const random = randomBytes(8).toString('hex');
  const room = NAME_MAX - Buffer.byteLength(`..${random}${TEMP_SUFFIX}`);
  let kept = name;
  if (Buffer.byteLength(kept) > room) {
    const codePoints = Array.from(name);
    while (Buffer.byteLength(codePoints.join('')) > room) codePoints.pop();
    kept = codePoints.join('');
  }
  return `.${kept}.${random}${TEMP_SUFFIX}`;
}

/**
 * Puts the complete temp file in place. `createOnly` (for `If-None-Match: *`)
 * links it under the name instead of renaming: link() fails with EEXIST when
 * the name exists, so "create unless present" holds even against a writer
 * that got there a moment before (412). The temp name is removed either way.
 */
export async function commitTemp(temp: string, file: string, createOnly: boolean): Promise<void> {
  if (!createOnly) {
    await fsCall(() => rename(temp, file));
    return;
  }
  try {
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new HttpError(412, 'Precondition Failed', { cause: error });
    throw fsError(error);
  }
  await unlink(temp).catch(() => {});
}

export async function writeAt(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  // A write may be short (a full disk, a signal); the rest follows at once.
  while (done < bytes.length) {
    const { bytesWritten } = await fsCall(() => handle.write(bytes, done, bytes.length - done, position + done));
    done += bytesWritten;
  }
}

/** fsync of a directory, so a rename or unlink survives a crash; some platforms cannot, which loses nothing else. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // Windows cannot open a directory, some file systems refuse fsync on one.
  } finally {
    await handle?.close().catch(() => {});
  }
}

export async function lstatIfAny(file: string): Promise<Stats | undefined> {
  try {
    return await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(error);
  }
}

/**
 * Only regular files are replaced or deleted. A directory is 409: a conflict
 * with the current state that the client can see and resolve by choosing
 * another name. A symlink (or a device, fifo, socket) is 403: the server's
 * operator put it there, and no request may write through it or replace it,
 * whatever it points to.
 */
export function refuseNonFile(stats: Stats): void {
  if (stats.isDirectory()) throw new HttpError(409, 'A directory cannot be written; name a file');
  if (!stats.isFile()) throw new HttpError(403, 'Forbidden');
}

/**
 * Runs a file-system call, turning the failures a client can cause or should
 * know about into statuses. Anything else is a fault of the server and stays
 * a 500 reported to `onError`.
 */
export async function fsCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fsError(error);
  }
}

function fsError(error: unknown): unknown {
  const status = FS_STATUS[(error as NodeJS.ErrnoException).code ?? ''];
  if (status === undefined) return error;
  return new HttpError(status, STATUS_TEXT[status], { cause: error });
}

const FS_STATUS: Record<string, number> = {
  ENOENT: 404, ENOTDIR: 404, ELOOP: 403, EACCES: 403, EPERM: 403, EROFS: 403,
  EISDIR: 409, ENAMETOOLONG: 414, ENOSPC: 507, EDQUOT: 507, EFBIG: 413,
};

const STATUS_TEXT: Record<number, string> = {
  403: 'Forbidden', 404: 'Not Found', 409: 'A directory cannot be written; name a file',
  413: 'The file is too large for this file system', 414: 'The name is too long', 507: 'Insufficient Storage',
};

/**
 * Whether the client was already told 503 (callbackTimeout): storing now would contradict that answer.
 * (A stop in progress also aborts the signal; uploads may still finish within its timeout.)
 */
export function timedOut(request: HttpRequest): boolean {
  const { signal } = request;
  return signal.aborted && (signal.reason as { code?: unknown } | undefined)?.code === 'ERR_CALLBACK_TIMEOUT';
}
