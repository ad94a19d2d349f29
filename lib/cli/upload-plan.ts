/**
 * Where `httpserver serve` puts uploads, and what it says about it. An
 * upload directory that is not served is write-only: the 201 answers, but
 * no URL reads the file back. That is GPAC's `wdir` alone, and a surprise
 * to anyone who tries the URL they just sent to, so it is said at start-up.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
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
 * when neither is given. Served directories are compared by real path, so a
 * symlink or a `./` spelling of a served directory counts as served.
 */
export function planUploads(dirs: string[], writable: boolean, upload: string | undefined): UploadPlan | undefined {
  if (writable && upload !== undefined) {
    throw new UsageError('--writable and --upload both say where uploads go: give one of them');
  }
  if (writable) {
    const dir = dirs[0]!;
    const which = dirs.length === 1 ? dir : `${dir} (the first DIR)`;
    return { dir, notice: `Uploads (PUT, POST) go into ${which}: ${readBack(dirs, 0, '')}.\n` };
  }
  if (upload === undefined) return undefined;
  const dir = expectDirectory(upload, '--upload');
  const real = realpathSync(dir);
  for (const [index, served] of dirs.entries()) {
    const below = path.relative(realpathSync(served), real);
    if (below === '' || (below.split(path.sep)[0] !== '..' && !path.isAbsolute(below))) {
      return { dir, notice: `Uploads (PUT, POST) go into ${dir}: ${readBack(dirs, index, below)}.\n` };
    }
  }
  return {
    dir,
    warning: `httpserver serve: warning: --upload ${dir} is write-only: it is not one of the served directories ` +
      '(nor inside one), so what is uploaded cannot be read back (GPAC\'s wdir alone is a write-only server too). ' +
      `To read uploads back, serve it as well (httpserver serve ${[...dirs, dir].map(shellWord).join(' ')} --upload ${shellWord(dir)}) ` +
      'or upload into the served directory with --writable.\n',
  };
}

/** Where an upload to `/NAME` is served: in served directory `index`, below it by `below`. */
function readBack(dirs: string[], index: number, below: string): string {
  // Several directories are mounted under their names, as serveDirectory names them.
  const segments = [...(dirs.length === 1 ? [] : [path.basename(path.resolve(dirs[index]!))]), ...below.split(path.sep).filter(Boolean)];
  if (segments.length === 0) return 'each one is served at the URL it was sent to';
  return `what is sent to /NAME is served at /${segments.map(encodeURIComponent).join('/')}/NAME`;
}

/** `word` as a shell would need it typed: single-quoted when it has a space or anything else special. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
