/**
 * Where `httpserver serve` puts uploads, and what it says about it. An
 * upload directory that is not served is write-only: the 201 answers, but
 * no URL reads the file back. That is GPAC's `wdir` alone, and a surprise
 * to anyone who tries the URL they just sent to, so it is said at start-up.
 */
import { uploadDirUrl } from '../static/upload-location.js';
import { expectDirectory } from './flag-values.js';
import { UsageError } from './shared.js';

export interface UploadPlan {
  /** The directory PUT and POST write into. */
  dir: string;
  /** For stdout, after the URL: where uploads can be read back. */
  notice?: string;
  /** For stderr: the directory is write-only, and how to make it readable. */
  warning?: string;
}

/**
 * `--writable` (into the first served directory) or `--upload DIR`; `undefined`
 * when neither is given. Whether uploads can be read back is the file
 * server's own answer (real paths compared, so a symlink or a `./` spelling
 * of a served directory counts as served).
 */
export function planUploads(dirs: string[], writable: boolean, upload: string | undefined): UploadPlan | undefined {
  if (writable && upload !== undefined) {
    throw new UsageError('--writable and --upload both say where uploads go: give one of them');
  }
  if (!writable && upload === undefined) return undefined;
  const dir = writable ? dirs[0]! : expectDirectory(upload!, '--upload');
  const which = writable && dirs.length > 1 ? `${dir} (the first DIR)` : dir;
  // Served as `httpserver serve` serves them: one directory at /, several as mount points.
  const url = uploadDirUrl({ root: dirs.length === 1 ? dirs[0]! : dirs, upload: { dir } });
  if (url !== undefined) {
    const where = url === '/' ? 'each one is served at the URL it was sent to' : `what is sent to /NAME is served at ${url}NAME`;
    return { dir, notice: `Uploads (PUT, POST) go into ${which}: ${where}.\n` };
  }
  return {
    dir,
    warning: `httpserver serve: warning: --upload ${dir} is write-only: it is not one of the served directories ` +
      '(nor inside one), so what is uploaded cannot be read back (GPAC\'s wdir alone is a write-only server too). ' +
      `To read uploads back, serve it as well (httpserver serve ${[...dirs, dir].map(shellWord).join(' ')} --upload ${shellWord(dir)}) ` +
      'or upload into the served directory with --writable.\n',
  };
}

/** `word` as a shell would need it typed: single-quoted when it has a space or anything else special. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
