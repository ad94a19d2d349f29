/**
 * Where an uploaded file can be read back. The write directory and the
 * served roots are configured apart, so a URL for a stored file exists only
 * when the file lies inside a served root (a mount) and nothing on its way
 * is hidden; every `Location` the upload code sends comes from here, so it
 * never names a URL that answers 404.
 */
import path from 'node:path';
import { isInside } from './safe-path.js';
import { resolveStaticOptions, type Mount, type ServeDirectoryOptions } from './static-options.js';

/** What GET serves, as the upload code needs to know it. */
export interface ServedRoots {
  /** The served directories, real paths. */
  mounts: Mount[];
  /** One directory served at `/` (no mount segment). */
  single: boolean;
  /** Whether names starting with `.` are served. */
  dotfiles: boolean;
}

/**
 * The URL path (percent-encoded, one segment at a time) at which GET finds
 * the real path `real`, or undefined when no served root holds it or a
 * segment on the way is a hidden dotfile. A directory's URL ends with `/`.
 * The first mount that holds it wins (a nested mount may serve it twice).
 */
export function servedUrlOf(roots: ServedRoots, real: string, kind: 'file' | 'directory'): string | undefined {
  for (const mount of roots.mounts) {
    if (!isInside(mount.root, real)) continue;
    const relative = path.relative(mount.root, real);
    const segments = relative === '' ? [] : relative.split(path.sep);
    if (!roots.dotfiles && segments.some((segment) => segment.startsWith('.'))) continue;
    const prefix = roots.single ? '' : `/${encodeURIComponent(mount.name)}`;
    const trailing = kind === 'directory' && segments.length > 0 ? '/' : '';
    return `${prefix}/${segments.map(encodeURIComponent).join('/')}${trailing}`;
  }
  return undefined;
}

/**
 * The URL to POST a form to so that its files land in the real directory
 * `real`: its path below the write directory (uploads address the write
 * directory from `/`, whatever is mounted where), with `/` at the end.
 * Undefined when `real` is outside the write directory, or below a hidden
 * segment the upload path checks would refuse.
 */
export function uploadUrlOf(upload: { dir: string; dotfiles: boolean }, real: string): string | undefined {
  if (!isInside(upload.dir, real)) return undefined;
  const relative = path.relative(upload.dir, real);
  const segments = relative === '' ? [] : relative.split(path.sep);
  if (!upload.dotfiles && segments.some((segment) => segment.startsWith('.'))) return undefined;
  return `/${segments.map((segment) => `${encodeURIComponent(segment)}/`).join('')}`;
}

/**
 * The URL path (ending in `/`) at which `serveDirectory(options)` serves
 * what it stores: defined when the upload directory is a served root or lies
 * inside one (and is not hidden as a dotfile path), so a PUT is answered
 * with a `Location` that GET finds; undefined when uploads are write-only,
 * or off. Validates `options` as `serveDirectory` does (and throws the same
 * errors); it reads the file system only to resolve the directories' real
 * paths, and changes nothing. `httpserver serve` says at start-up what it
 * finds here.
 *
 * @example
 * if (uploadDirUrl({ root: 'public', upload: { dir: 'incoming' } }) === undefined) {
 *   console.warn('Uploads go to a directory that is not served: they cannot be downloaded here.');
 * }
 */
export function uploadDirUrl(options: ServeDirectoryOptions): string | undefined {
  const config = resolveStaticOptions(options);
  if (config.upload === undefined) return undefined;
  const url = servedUrlOf(config, config.upload.dir, 'directory');
  return url === undefined || url.endsWith('/') ? url : `${url}/`;
}
