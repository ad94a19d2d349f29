import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { HttpError } from '../errors.js';

export interface ResolveOptions {
  /** Whether a segment starting with `.` may be served. Default false: dotfiles are hidden (404). */
  dotfiles?: boolean;
}

/** A request path turned into a file-system path that is known to stay inside its root. */
export interface ResolvedPath {
  /** The root, as its real path (symlinks resolved). */
  root: string;
  /** The decoded, normalized segments below the root (no `.`, `..` or empty ones). */
  segments: string[];
  /** `root` joined with `segments`: the path to open (not yet checked for symlinks). */
  joined: string;
}

/**
 * Step 1 to 5 of the one fixed sequence every static path goes through:
 * decode (400 on a bad escape), refuse NUL (400), normalize, refuse up-paths
 * (403), join to the root. Errors carry a status and never the path itself.
 *
 * `urlPath` is `request.path` (no query) relative to the mount point.
 * The result must still pass `realPathInside` (step 6) before it is opened.
 */
export function resolveRequestPath(root: string, urlPath: string, options: ResolveOptions = {}): ResolvedPath {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    throw new HttpError(400, 'The request path has an invalid %-escape');
  }
  if (decoded.includes('\0')) throw new HttpError(400, 'The request path contains NUL');
  // Backslashes are separators on Windows and never part of a served name here.
  const segments: string[] = [];
  for (const segment of decoded.split(/[/\\]+/)) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') throw new HttpError(403, 'The request path leaves the served directory');
    if (!options.dotfiles && segment.startsWith('.')) throw new HttpError(404, 'Not Found');
    segments.push(segment);
  }
  const joined = path.join(root, ...segments);
  const relative = path.relative(root, joined);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new HttpError(403, 'The request path leaves the served directory');
  }
  return { root, segments, joined };
}

/**
 * Step 6: the real path of `candidate` (symlinks resolved) must stay inside
 * `realRoot` (itself a real path). A symlink pointing outside is never
 * followed out: it answers 404, as if it were not there. Returns the real
 * path; 404 when it does not exist.
 */
export async function realPathInside(realRoot: string, candidate: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ENAMETOOLONG') {
      throw new HttpError(404, 'Not Found');
    }
    if (code === 'EACCES' || code === 'EPERM') throw new HttpError(403, 'Forbidden');
    throw error;
  }
  if (!isInside(realRoot, real)) throw new HttpError(404, 'Not Found');
  return real;
}

/** Whether `child` is `parent` or below it; both absolute, normalized real paths. */
export function isInside(parent: string, child: string): boolean {
  if (child === parent) return true;
  const prefix = parent.endsWith(path.sep) ? parent : parent + path.sep;
  return child.startsWith(prefix);
}
