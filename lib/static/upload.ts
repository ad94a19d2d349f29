import { constants, type Stats } from 'node:fs';
import { open, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { HttpError } from '../errors.js';
import type { HttpRequest, HttpResponse } from '../types.js';
import { writePreconditionsHold } from './conditional.js';
import { describeStats } from './file-info.js';
import { isFormUpload, multipartUpload } from './multipart-upload.js';
import { realPathInside, resolveRequestPath } from './safe-path.js';
import {
  checkStoredName, commitTemp, createTemp, fsCall, lstatIfAny, refuseNonFile, syncDirectory, timedOut, writeAt,
} from './upload-files.js';
import { servedUrlOf, type ServedRoots } from './upload-location.js';

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
  /**
   * What GET serves. A stored file's `Location` is its URL there, and is
   * left out when it is not served (a `Location` that answers 404 would
   * mislead); the upload form and its redirect need it too. Default: none.
   */
  served?: ServedRoots;
  /** Whether GET sends an ETag, so that If-Match and If-None-Match compare with it. Default true. */
  etag?: boolean;
  /** Whether GET sends Last-Modified, so that If-Unmodified-Since compares with it. Default true. */
  lastModified?: boolean;
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
}

/** A parsed `Content-Range: bytes first-last/complete` of a partial PUT. */
interface ByteRange {
  first: number;
  last: number;
}

const COPY_CHUNK = 64 * 1024;

/**
 * PUT, POST or DELETE of `urlPath` (the request path relative to the mount)
 * in the write directory `options.dir`, as GPAC httpout's `wdir` does.
 *
 * PUT and POST store the body atomically: it is streamed into a hidden temp
 * file in the target's own directory, fsynced, then renamed over the target,
 * so a reader sees the old file or the complete new one, never a mix, and an
 * aborted or oversized upload leaves the old file and no temp file. 201 for a
 * new file (with `Location` when `served` serves it), 204 for an overwrite.
 * DELETE answers 204, or 404 when there is no such file, and only with
 * `allowDelete` (405 otherwise). A `multipart/form-data` POST to a directory
 * stores each file part there (see `multipartUpload`).
 *
 * Preconditions (RFC 9110, 13.1) are evaluated against the target as it
 * is: If-Match and If-None-Match with the ETag a GET would send,
 * If-Unmodified-Since with its Last-Modified; `If-None-Match: *` holds only
 * when there is no file, `If-Match: *` only when there is one; 412 when
 * one fails. They are checked before the body is read, and again just
 * before the file is put in place.
 *
 * Refusals, all before the body is read (so no `100 Continue` is sent):
 * 400 bad path or name, or `Content-Range` without `partial`; 403 traversal, a
 * symlink target or a reserved name; 412 a failed precondition; 404 a missing parent directory or one
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
  if (isFormUpload(request, urlPath)) return multipartUpload(request, urlPath, options);
  const target = await resolveTarget(urlPath, options);
  // A DELETE of nothing is 404 whatever its conditions: preconditions apply only to what would otherwise succeed (13.2.1).
  if (verb === 'DELETE') {
    if (!target.existing) throw new HttpError(404, 'Not Found');
    checkPreconditions(request, target.existing, options);
    return deleteFile(target);
  }
  // Refused before the body is read, so a client that sent Expect: 100-continue need not send it.
  checkPreconditions(request, target.existing, options);
  return storeBody(request, target, options);
}

/** 412 unless the request's preconditions hold for `current` (the target's lstat, `undefined` when absent). */
function checkPreconditions(request: HttpRequest, current: Stats | undefined, options: UploadOptions): void {
  const described = current === undefined ? undefined : describeStats(current, '');
  const validators = described === undefined ? undefined : {
    etag: options.etag === false ? undefined : described.etag,
    lastModified: options.lastModified === false ? undefined : described.lastModified,
  };
  if (!writePreconditionsHold(request.headers, validators)) throw new HttpError(412, 'Precondition Failed');
}

/** Whether the request asks to create the file only if there is none (`If-None-Match: *`). */
function createOnly(request: HttpRequest): boolean {
  return request.headers['if-none-match']?.trim() === '*';
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
  checkStoredName(name, options.dotfiles);
  // Intermediate directories are never created: a typo would otherwise leave a
  // tree behind, and every directory made on a client's word is one more place
  // for a symlink race. The client creates nothing but the file it names.
  const parent = await realPathInside(options.dir, path.join(options.dir, ...segments.slice(0, -1)));
  const parentStats = await fsCall(() => stat(parent));
  if (!parentStats.isDirectory()) throw new HttpError(404, 'Not Found');
  const file = path.join(parent, name);
  const existing = await lstatIfAny(file);
  if (existing) refuseNonFile(existing);
  return { parent, name, file, existing };
}

async function deleteFile(target: Target): Promise<HttpResponse> {
  await fsCall(() => unlink(target.file));
  await syncDirectory(target.parent);
  return { statuscode: 204 };
}

async function storeBody(request: HttpRequest, target: Target, options: UploadOptions): Promise<HttpResponse> {
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

  const { temp, handle } = await createTemp(target.parent, target.name);
  let closed = false;
  let replaced: Stats | undefined;
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
    // The conditions again, against the file as it is now that the body is in: another writer may
    // have replaced it while this one was uploading. The race that remains is the moment between
    // this lstat and the rename (POSIX has no rename-if-unchanged); `If-None-Match: *` has none,
    // as commitTemp links without clobbering.
    replaced = await lstatIfAny(target.file);
    if (replaced) refuseNonFile(replaced);
    checkPreconditions(request, replaced, options);
    await commitTemp(temp, target.file, createOnly(request));
    renamed = true;
  } finally {
    if (!closed) await handle.close().catch(() => {});
    if (!renamed) await unlink(temp).catch(() => {});
  }
  // The rename is durable only once the directory entry itself is on disk.
  await syncDirectory(target.parent);
  if (replaced) return { statuscode: 204 };
  const location = options.served === undefined ? undefined : servedUrlOf(options.served, target.file, 'file');
  return location === undefined ? { statuscode: 201 } : { statuscode: 201, headers: { Location: location } };
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
