import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** A regular file that passed path safety and is open, as every static module sees it. */
export interface ServedFile {
  /** Real path on disk (inside its root); for messages only: the bytes come from `handle`. */
  path: string;
  /** The open file. Whoever answers with it closes it, or hands it to a body stream that does. */
  handle: FileHandle;
  /** `fstat` of `handle`: the size and dates of exactly the bytes that are sent. */
  stat: Stats;
  /** Full Content-Type, with charset for text types. */
  contentType: string;
  /** Strong or weak ETag, quoted (jshttp `etag` of the stat). */
  etag: string;
  /** HTTP date of `stat.mtime`. */
  lastModified: string;
}
