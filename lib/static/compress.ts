import type { Readable } from 'node:stream';
import type { HttpRequest } from '../types.js';
import type { ServedFile } from './served-file.js';

export type Encoding = 'br' | 'gzip' | 'deflate';

export interface CompressOptions {
  /** Largest file compressed on the fly, in bytes (httpout's zmax). */
  maxSize: number;
  /** Smallest file worth compressing, in bytes. */
  minSize: number;
}

/** The encoding to send `file` with, negotiated from Accept-Encoding, or undefined for identity. */
export function chooseEncoding(request: HttpRequest, file: ServedFile, options: CompressOptions): Encoding | undefined {
  void request; void file; void options;
  throw new Error('compress.ts: not built yet');
}

/** The file's bytes, compressed with `encoding`. */
export function encodedStream(file: ServedFile, encoding: Encoding): Readable {
  void file; void encoding;
  throw new Error('compress.ts: not built yet');
}
