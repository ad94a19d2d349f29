import { realpathSync, statSync } from 'node:fs';
import { validateHeaderValue } from 'node:http';
import path from 'node:path';
import {
  expectBoolean, expectDefaultHeaders, expectInteger, expectKnownKeys, expectOneOf, expectPlainObject, expectString,
} from '../arguments.js';
import { ArgumentTypeError, ValueError, describe } from '../errors.js';
import type { CorsMode } from '../options.js';
import type { OutgoingHeaders, OutgoingHeaderValue } from '../types.js';
import type { CompressOptions } from './compress.js';
import type { UploadOptions } from './upload.js';

/** The argument of `serveDirectory`. Only `root` is required. */
export interface ServeDirectoryOptions {
  /**
   * What to serve. A directory is served at `/`; several directories (an
   * array) are mount points named after their last path component, listed at
   * `/` (GPAC httpout's `rdirs`); an object maps mount names to directories.
   */
  root: string | string[] | Record<string, string>;
  /** Files tried, in order, for a directory URL. `false`: none. Default `['index.html']`. */
  index?: string[] | false;
  /** List directories that have no index file (and the mount points at `/`). Default `false` (404). */
  list?: boolean;
  /** Serve names starting with `.`. Default `false`: they answer 404, as if absent. */
  dotfiles?: boolean;
  /** The `Cache-Control` of file responses; `false` sends none. Default `'no-cache'` (always revalidate: right while developing). */
  cacheControl?: string | false;
  /** Send `ETag` and honour it in conditional requests. Default `true`. */
  etag?: boolean;
  /** Send `Last-Modified` and honour it in conditional requests. Default `true`. */
  lastModified?: boolean;
  /** Compress compressible files when the client accepts it. Default `true` (files from 1 KiB to 16 MiB). */
  compress?: boolean | { maxSize?: number; minSize?: number };
  /**
   * Send `file.br` or `file.gz`, when one exists beside the requested file,
   * to a client that accepts that coding (with `Content-Encoding`, its own
   * length and ETag). Default `true`.
   */
  precompressed?: boolean;
  /**
   * Accept PUT and POST (and DELETE when `delete` is true) into `dir`, and
   * `multipart/form-data` POSTs (browser forms) to its directories.
   * `maxSize` bounds each stored file, and all files of one form together.
   * Default: none, those methods answer 405.
   */
  upload?: { dir: string; maxSize?: number; partial?: boolean; delete?: boolean };
  /** `'on'`: CORS headers on every response; `'auto'`: when the request has `Origin`. Default `'off'`. */
  cors?: CorsMode;
  /** Headers added to every response; a header the server computes itself (Content-Type, ETag, ...) wins over one given here. */
  headers?: OutgoingHeaders;
  /** Answer HTML navigations that match no file with `index.html` (or the file named here), for single-page apps. Default `false`. */
  spa?: boolean | string;
}

/** One served directory. */
export interface Mount {
  /** The first path segment it is served under; `''` for a single root served at `/`. */
  name: string;
  /** Its real path (symlinks resolved), checked to be a directory when `serveDirectory` was called. */
  root: string;
}

export interface StaticOptions {
  mounts: Mount[];
  /** True when one directory is served at `/` (no mount points). */
  single: boolean;
  index: string[];
  list: boolean;
  dotfiles: boolean;
  cacheControl: string | undefined;
  etag: boolean;
  lastModified: boolean;
  compress: CompressOptions | undefined;
  precompressed: boolean;
  upload: UploadOptions | undefined;
  cors: CorsMode;
  headers: Array<[string, OutgoingHeaderValue]>;
  /** The fallback file's URL path below the root (e.g. `'index.html'`), or undefined. */
  spa: string | undefined;
}

const KNOWN = [
  'root', 'index', 'list', 'dotfiles', 'cacheControl', 'etag', 'lastModified', 'compress', 'precompressed', 'upload', 'cors',
  'headers', 'spa',
] as const;

export const STATIC_DEFAULTS = Object.freeze({
  index: ['index.html'],
  cacheControl: 'no-cache',
  compressMaxSize: 16 * 1024 * 1024,
  compressMinSize: 1024,
  uploadMaxSize: 64 * 1024 * 1024,
  spa: 'index.html',
});

/** Validates the argument of `serveDirectory` and fills in the defaults. Throws the project's typed errors. */
export function resolveStaticOptions(input: unknown): StaticOptions {
  const options = expectPlainObject('options', input);
  expectKnownKeys('The "options" argument', options, KNOWN);
  if (options.root === undefined) throw new ArgumentTypeError('The "options.root" option is required: the directory to serve.');
  const pick = <T>(key: string, check: (name: string, value: unknown) => T, fallback: T): T =>
    options[key] === undefined ? fallback : check(`options.${key}`, options[key]);
  const dotfiles = pick('dotfiles', expectBoolean, false);
  const { mounts, single } = checkRoot('options.root', options.root);
  const etag = pick('etag', expectBoolean, true);
  const lastModified = pick('lastModified', expectBoolean, true);
  const upload = pick('upload', (name, value) => checkUpload(name, value, dotfiles), undefined);
  // Uploads compare preconditions with the validators GET sends, and name stored files by their URL there.
  if (upload !== undefined) Object.assign(upload, { served: { mounts, single, dotfiles }, etag, lastModified });
  return {
    mounts,
    single,
    index: pick('index', checkIndex, [...STATIC_DEFAULTS.index]),
    list: pick('list', expectBoolean, false),
    dotfiles,
    cacheControl: pick('cacheControl', checkCacheControl, STATIC_DEFAULTS.cacheControl),
    etag,
    lastModified,
    compress: pick('compress', checkCompress, checkCompress('options.compress', true)),
    precompressed: pick('precompressed', expectBoolean, true),
    upload,
    cors: pick('cors', (name, value) => expectOneOf(name, value, ['off', 'on', 'auto'] as const), 'off'),
    headers: pick('headers', expectDefaultHeaders, []),
    spa: pick('spa', checkSpa, undefined),
  };
}

function checkRoot(name: string, value: unknown): { mounts: Mount[]; single: boolean } {
  if (typeof value === 'string') return { mounts: [{ name: '', root: realDirectory(name, value) }], single: true };
  let pairs: Array<[string, unknown]>;
  if (Array.isArray(value)) {
    if (value.length === 0) throw new ValueError(`The "${name}" option must name at least one directory.`);
    // One directory in a list is served like a single root, as httpout does with one rdir.
    if (value.length === 1) return checkRoot(`${name}[0]`, value[0]);
    pairs = value.map((dir) => [typeof dir === 'string' ? path.basename(path.resolve(dir)) : '', dir]);
    pairs.forEach(([, dir], i) => expectString(`${name}[${i}]`, dir));
  } else if (typeof value === 'object' && value !== null) {
    pairs = Object.entries(value);
    if (pairs.length === 0) throw new ValueError(`The "${name}" option must name at least one directory.`);
  } else {
    throw new ArgumentTypeError(
      `The "${name}" option must be a directory, an array of directories or an object of mount names. Received ${describe(value)}`,
    );
  }
  const seen = new Set<string>();
  const mounts = pairs.map(([mount, dir]) => {
    // A mount name is one URL segment: no separator, nothing that resolves to a parent or a hidden entry.
    if (mount === '' || mount === '.' || mount === '..' || /[/\\\0]/.test(mount)) {
      throw new ValueError(`The "${name}" option has an invalid mount name ${JSON.stringify(mount)}.`);
    }
    if (seen.has(mount)) {
      throw new ValueError(`The "${name}" option has two directories mounted as "${mount}"; name them with an object.`);
    }
    seen.add(mount);
    return { name: mount, root: realDirectory(`${name}['${mount}']`, expectString(`${name}['${mount}']`, dir)) };
  });
  return { mounts, single: false };
}

/** The real path of an existing directory; a programmer's error (with the path) otherwise. */
function realDirectory(name: string, dir: string): string {
  let real: string;
  try {
    real = realpathSync(path.resolve(dir));
  } catch {
    throw new ValueError(`The "${name}" option must be an existing directory. Received ${JSON.stringify(dir)}`);
  }
  if (!statSync(real).isDirectory()) {
    throw new ValueError(`The "${name}" option must be a directory. Received ${JSON.stringify(dir)}`);
  }
  return real;
}

function checkIndex(name: string, value: unknown): string[] {
  if (value === false) return [];
  if (!Array.isArray(value)) {
    throw new ArgumentTypeError(`The "${name}" option must be an array of file names or false. Received ${describe(value)}`);
  }
  return value.map((entry, i) => {
    const file = expectString(`${name}[${i}]`, entry);
    if (file === '' || file === '.' || file === '..' || /[/\\\0]/.test(file)) {
      throw new ValueError(`The "${name}[${i}]" option must be a plain file name. Received ${JSON.stringify(file)}`);
    }
    return file;
  });
}

function checkCacheControl(name: string, value: unknown): string | undefined {
  if (value === false) return undefined;
  const text = expectString(name, value);
  try {
    validateHeaderValue('Cache-Control', text);
  } catch {
    throw new ValueError(`The "${name}" option must be a valid header value. Received ${JSON.stringify(text)}`);
  }
  return text;
}

function checkCompress(name: string, value: unknown): CompressOptions | undefined {
  if (value === false) return undefined;
  if (value === true) return { maxSize: STATIC_DEFAULTS.compressMaxSize, minSize: STATIC_DEFAULTS.compressMinSize };
  const object = expectPlainObject(name, value);
  expectKnownKeys(`The "${name}" option`, object, ['maxSize', 'minSize']);
  const maxSize = object.maxSize === undefined
    ? STATIC_DEFAULTS.compressMaxSize
    : expectInteger(`${name}.maxSize`, object.maxSize, 0, Number.MAX_SAFE_INTEGER);
  const minSize = object.minSize === undefined
    ? STATIC_DEFAULTS.compressMinSize
    : expectInteger(`${name}.minSize`, object.minSize, 0, Number.MAX_SAFE_INTEGER);
  return { maxSize, minSize };
}

function checkUpload(name: string, value: unknown, dotfiles: boolean): UploadOptions {
  const object = expectPlainObject(name, value);
  expectKnownKeys(`The "${name}" option`, object, ['dir', 'maxSize', 'partial', 'delete']);
  return {
    dir: realDirectory(`${name}.dir`, expectString(`${name}.dir`, object.dir)),
    maxSize: object.maxSize === undefined
      ? STATIC_DEFAULTS.uploadMaxSize
      : expectInteger(`${name}.maxSize`, object.maxSize, 0, Number.MAX_SAFE_INTEGER),
    partial: object.partial === undefined ? false : expectBoolean(`${name}.partial`, object.partial),
    allowDelete: object.delete === undefined ? false : expectBoolean(`${name}.delete`, object.delete),
    dotfiles,
  };
}


function checkSpa(name: string, value: unknown): string | undefined {
  if (value === false) return undefined;
  if (value === true) return STATIC_DEFAULTS.spa;
  const file = expectString(name, value).replace(/^\/+/, '');
  if (file === '' || file.split(/[/\\]/).some((segment) => segment === '..') || file.includes('\0')) {
    throw new ValueError(`The "${name}" option must be a file path below the root. Received ${JSON.stringify(value)}`);
  }
  return file;
}

