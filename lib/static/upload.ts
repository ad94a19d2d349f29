import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { HttpError } from '../errors.js';
import type { HttpRequest, HttpResponse } from '../types.js';
import { realPathInside, resolveRequestPath } from './safe-path.js';

export interface UploadOptions {
  /** The real path of the write directory. */
  dir: string;
  /** Largest body stored, in bytes (413 before 100 Continue). */
  maxSize: number;
  /** Accept PUT with Content-Range (partial writes), as httpout can. */
  partial: boolean;
  /** Serve DELETE. */
  allowDelete: boolean;
  /** Allow names starting with '.'. */
  dotfiles: boolean;
}

/** What a request path names in the write directory, once every safety check has passed. */
interface Target {
  /** The real path of the directory that holds (or will hold) the file. */
  parent: string;
  name: string;
  /** `parent` joined with `name`: never a symlink or a directory (checked). */
  file: string;
  /** The file as it is now, `undefined` when there is none. */
  existing: Stats | undefined;
  segments: string[];
}

/** A parsed `Content-Range: bytes first-last/complete` of a partial PUT. */
interface ByteRange {
  first: number;
  last: number;
}

const TEMP_SUFFIX = '.upload';
// Our own temp names (`.<name>.<16 hex>.upload`): a client that may address dotfiles
// must still not overwrite or delete another upload's temp file in flight.
const TEMP_NAME = /^\..*\.[0-9a-f]{16}\.upload$/;
// Most file systems cap one name at 255 bytes; the temp name must fit as well.
const NAME_MAX = 255;
const COPY_CHUNK = 64 * 1024;

/**
 * PUT, POST or DELETE of `urlPath` (the request path relative to the mount)
 * in the write directory `options.dir`, as GPAC httpout's `wdir` does.
 *
 * PUT and POST store the body atomically: it is streamed into a hidden temp
 * file in the target's own directory, fsynced, then renamed over the target,
 * so a reader sees the old file or the complete new one, never a mix, and an
 * aborted or oversized upload leaves the old file and no temp file. 201 (with
 * `Location`) for a new file, 204 for an overwrite. DELETE answers 204, or 404
 * when there is no such file, and only with `allowDelete` (405 otherwise).
 *
 * Refusals, all before the body is read (so no `100 Continue` is sent):
 * 400 bad path or `Content-Range` without `partial`; 403 traversal, a
 * symlink target or a reserved name; 404 a missing parent directory or one
 * that leads outside; 409 a directory; 413 a `Content-Length` over `maxSize`.
 *
 * @example
 * registerCallback(['127.0.0.1', 8080], (request) =>
 *   uploadResponse(request, request.path, { dir, maxSize: 1 << 20, partial: false, allowDelete: true, dotfiles: false }));
 */
export async function uploadResponse(request: HttpRequest, urlPath: string, options: UploadOptions): Promise<HttpResponse> {
  const { verb } = request;
  if (verb !== 'PUT' && verb !== 'POST' && !(verb === 'DELETE' && options.allowDelete)) {
    throw new HttpError(405, 'Method Not Allowed', {
      headers: { Allow: options.allowDelete ? 'PUT, POST, DELETE' : 'PUT, POST' },
    });
  }
  const target = await resolveTarget(urlPath, options);
  if (verb === 'DELETE') return deleteFile(target);
  return storeBody(request, urlPath, target, options);
}

/**
 * The fixed path sequence of safe-path (steps 1 to 5), then step 6 on the
 * PARENT: the target itself may not exist yet, so its directory's real path
 * is what must stay inside the write directory.
 */
async function resolveTarget(urlPath: string, options: UploadOptions): Promise<Target> {
  const { segments } = resolveRequestPath(options.dir, urlPath, { dotfiles: options.dotfiles });
  // A trailing slash names a directory: only files are written here. The path
  // decoded without error above, so decoding it again cannot throw.
  if (segments.length === 0 || /[/\\]$/.test(decodeURIComponent(urlPath))) {
    throw new HttpError(409, 'A directory cannot be written; name a file');
  }
  const name = segments[segments.length - 1]!;
  if (TEMP_NAME.test(name)) throw new HttpError(403, 'This name is reserved for uploads in progress');
  // Intermediate directories are never created: a typo would otherwise leave a
  // tree behind, and every directory made on a client's word is one more place
  // for a symlink race. The client creates nothing but the file it names.
  const parent = await realPathInside(options.dir, path.join(options.dir, ...segments.slice(0, -1)));
  const parentStats = await fsCall(() => stat(parent));
  if (!parentStats.isDirectory()) throw new HttpError(404, 'Not Found');
  const file = path.join(parent, name);
  const existing = await lstatIfAny(file);
  if (existing) refuseNonFile(existing);
  return { parent, name, file, existing, segments };
}

/**
 * Only regular files are replaced or deleted. A directory is 409: a conflict
 * with the current state that the client can see and resolve by choosing
 * another name. A symlink (or a device, fifo, socket) is 403: the server's
 * operator put it there, and no request may write through it or replace it,
 * whatever it points to.
 */
function refuseNonFile(stats: Stats): void {
  if (stats.isDirectory()) throw new HttpError(409, 'A directory cannot be written; name a file');
  if (!stats.isFile()) throw new HttpError(403, 'Forbidden');
}

async function deleteFile(target: Target): Promise<HttpResponse> {
  if (!target.existing) throw new HttpError(404, 'Not Found');
  await fsCall(() => unlink(target.file));
  await syncDirectory(target.parent);
  return { statuscode: 204 };
}

async function storeBody(request: HttpRequest, urlPath: string, target: Target, options: UploadOptions): Promise<HttpResponse> {
  const range = parseContentRange(request.headers['content-range'], options.partial);
  const declared = contentLength(request);
  const currentSize = target.existing?.size ?? 0;
  // The number of body bytes allowed, and the status when a streamed body goes past it.
  let limit = options.maxSize;
  let overLimit = () => new HttpError(413, `The body is larger than the limit of ${options.maxSize} bytes`);
  if (range) {
    // Writing past the end would leave a hole of zeros the client never sent:
    // 416 tells it the current size, so it can resume from there.
    if (range.first > currentSize) {
      throw new HttpError(416, 'The range starts past the end of the file', {
        headers: { 'Content-Range': `bytes */${currentSize}` },
      });
    }
    limit = range.last - range.first + 1;
    if (declared !== undefined && declared !== limit) {
      throw new HttpError(400, 'Content-Length does not match Content-Range');
    }
    if (Math.max(currentSize, range.last + 1) > options.maxSize) throw overLimit();
    overLimit = () => new HttpError(400, 'The body is longer than its Content-Range');
  } else if (declared !== undefined && declared > options.maxSize) {
    // Refused on the announced length, before reading sends `100 Continue`.
    throw overLimit();
  }

  const temp = path.join(target.parent, tempName(target.name));
  // O_EXCL: the name is new, so nothing (and no symlink) is followed or clobbered.
  const handle = await fsCall(() => open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666));
  let closed = false;
  let renamed = false;
  try {
    if (range && target.existing) await copyFile(target.file, handle);
    // An overwrite keeps the permissions the operator gave the file.
    if (target.existing) await fsCall(() => handle.chmod(target.existing!.mode & 0o777));
    let position = range?.first ?? 0;
    let received = 0;
    // One chunk at a time, each written before the next is read: the socket is
    // paused while the disk catches up, and the body is never held whole.
    // A client that leaves mid-body rejects the read, which lands in `finally`.
    for await (const chunk of request.datastream) {
      received += chunk.length;
      if (received > limit) throw overLimit();
      await writeAt(handle, chunk, position);
      position += chunk.length;
    }
    if (range && received !== limit) throw new HttpError(400, 'The body is shorter than its Content-Range');
    // The client was already told 503 (callbackTimeout): storing now would contradict that answer.
    // (A stop in progress also aborts the signal; uploads may still finish within its timeout.)
    if (timedOut(request)) throw new HttpError(503, 'The upload took longer than callbackTimeout');
    await fsCall(() => handle.sync());
    closed = true;
    await fsCall(() => handle.close());
    await fsCall(() => rename(temp, target.file));
    renamed = true;
  } finally {
    if (!closed) await handle.close().catch(() => {});
    if (!renamed) await unlink(temp).catch(() => {});
  }
  // The rename is durable only once the directory entry itself is on disk.
  await syncDirectory(target.parent);
  if (target.existing) return { statuscode: 204 };
  return { statuscode: 201, headers: { Location: locationOf(request, urlPath, target.segments) } };
}

/**
 * `Content-Range` on a PUT. Without the `partial` option it is refused with
 * 400, as RFC 9110 section 14.5 asks of a server that does not support
 * partial PUT (501 would claim the method itself is unknown). With it, only
 * one `bytes first-last/complete` range is accepted, `complete` being a
 * length or `*`.
 */
function parseContentRange(header: string | undefined, partial: boolean): ByteRange | undefined {
  if (header === undefined) return undefined;
  if (!partial) throw new HttpError(400, 'Partial PUT (Content-Range) is not supported here');
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec(header.trim());
  if (!match) throw new HttpError(400, 'Content-Range must be "bytes first-last/length"');
  const first = Number(match[1]);
  const last = Number(match[2]);
  const complete = match[3] === '*' ? undefined : Number(match[3]);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first > last ||
      (complete !== undefined && (!Number.isSafeInteger(complete) || last >= complete))) {
    throw new HttpError(400, 'Content-Range is not a valid byte range');
  }
  return { first, last };
}

/** The announced body length; `undefined` for a chunked body. Node has already refused a malformed one. */
function contentLength(request: HttpRequest): number | undefined {
  const value = request.headers['content-length'];
  if (value === undefined || request.headers['transfer-encoding'] !== undefined) return undefined;
  return Number(value);
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
 * Copies the current file into the temp file for a partial PUT. Opened with
 * O_NOFOLLOW: if the file was swapped for a symlink since it was checked,
 * nothing from outside is copied in.
 */
async function copyFile(source: string, into: FileHandle): Promise<void> {
  const from = await fsCall(() => open(source, constants.O_RDONLY | constants.O_NOFOLLOW));
  try {
    const buffer = Buffer.allocUnsafe(COPY_CHUNK);
    let position = 0;
    for (;;) {
      const { bytesRead } = await from.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      await writeAt(into, buffer.subarray(0, bytesRead), position);
      position += bytesRead;
    }
  } finally {
    await from.close();
  }
}

async function writeAt(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  // A write may be short (a full disk, a signal); the rest follows at once.
  while (done < bytes.length) {
    const { bytesWritten } = await fsCall(() => handle.write(bytes, done, bytes.length - done, position + done));
    done += bytesWritten;
  }
}

/** fsync of a directory, so a rename or unlink survives a crash; some platforms cannot, which loses nothing else. */
async function syncDirectory(dir: string): Promise<void> {
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

async function lstatIfAny(file: string): Promise<Stats | undefined> {
  try {
    return await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return fsCall(() => Promise.reject(error));
  }
}

/**
 * Runs a file-system call, turning the failures a client can cause or should
 * know about into statuses. Anything else is a fault of the server and stays
 * a 500 reported to `onError`.
 */
async function fsCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const status = FS_STATUS[(error as NodeJS.ErrnoException).code ?? ''];
    if (status === undefined) throw error;
    throw new HttpError(status, STATUS_TEXT[status], { cause: error });
  }
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
 * Where the new file is. An absolute path when the mount prefix (the part of
 * `request.path` before `urlPath`) is plain visible ASCII, else the encoded
 * name alone: a relative reference, resolved against the request target
 * (RFC 9110 section 10.2.2), so no odd byte sent by a client reaches the header.
 */
function locationOf(request: HttpRequest, urlPath: string, segments: string[]): string {
  const encoded = segments.map(encodeURIComponent);
  if (request.path.endsWith(urlPath)) {
    const mount = request.path.slice(0, request.path.length - urlPath.length).replace(/\/+$/, '');
    if (/^[\x21-\x7e]*$/.test(mount) && !mount.includes('#')) return `${mount}/${encoded.join('/')}`;
  }
  return encoded[encoded.length - 1]!;
}

function timedOut(request: HttpRequest): boolean {
  const { signal } = request;
  return signal.aborted && (signal.reason as { code?: unknown } | undefined)?.code === 'ERR_CALLBACK_TIMEOUT';
}
