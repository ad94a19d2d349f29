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

/** How much of a part is read at once: a stream's usual chunk. */
const PART_CHUNK = 64 * 1024;

/**
 * A part of the file for a body made of several (multipart/byteranges): bytes
 * `start` to `end` (inclusive), read positionally from the handle, which it
 * leaves open for `closeWith` to close once. (A read stream per part would
 * add a listener to the one handle for each of up to 16 parts.) A file cut
 * short meanwhile fails the body, so the client sees a truncated answer,
 * never a wrong one.
 */
export async function* filePart(file: ServedFile, start: number, end: number): AsyncGenerator<Buffer> {
  for (let position = start; position <= end;) {
    const length = Math.min(PART_CHUNK, end - position + 1);
    const { bytesRead, buffer } = await file.handle.read(Buffer.allocUnsafe(length), 0, length, position);
    if (bytesRead === 0) throw new Error(`The file ended at byte ${position}, before the range's end (${end})`);
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
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
