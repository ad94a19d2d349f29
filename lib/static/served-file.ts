import type { Stats } from 'node:fs';

/** A regular file that passed path safety, as every static module sees it. */
export interface ServedFile {
  /** Real path on disk (inside its root). */
  path: string;
  stat: Stats;
  /** Full Content-Type, with charset for text types. */
  contentType: string;
  /** Strong or weak ETag, quoted (jshttp `etag` of the stat). */
  etag: string;
  /** HTTP date of `stat.mtime`. */
  lastModified: string;
}
