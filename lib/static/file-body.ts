/**
 * Body streams over an open `ServedFile`. Every stream reads the one handle
 * that was fstat'ed (never the name again), and each way a body can end
 * (read to the end, destroyed by a client that left, a read error) closes
 * that handle exactly once.
 */
import type { Readable } from 'node:stream';
import type { ServedFile } from './served-file.js';

/**
 * Bytes `start` to `end` (inclusive; no `end`: to the end of the file) as a
 * stream that closes the handle when it ends or is destroyed. Reads are
 * positional, so nothing depends on the handle's file position.
 */
export function fileStream(file: ServedFile, start = 0, end?: number): Readable {
  return file.handle.createReadStream(end === undefined ? { start, autoClose: true } : { start, end, autoClose: true });
}

/**
 * A part of the file for a stream made of several (multipart/byteranges):
 * it leaves the handle open, and `closeWith` closes it once.
 */
export function partStream(file: ServedFile, start: number, end: number): Readable {
  return file.handle.createReadStream({ start, end, autoClose: false });
}

/**
 * Closes the handle once `body` is closed, whichever way it ends. Closing
 * waits for a read still in flight, so a part stream torn down at the same
 * moment is safe.
 */
export function closeWith<T extends Readable>(file: ServedFile, body: T): T {
  body.once('close', () => { closeFile(file); });
  return body;
}

/** For answers without a body (HEAD, 304, 412, 416): the handle is not needed any more. */
export function closeFile(file: ServedFile): void {
  file.handle.close().catch(() => {});
}
