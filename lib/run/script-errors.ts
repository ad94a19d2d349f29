/**
 * A script's errors as a person should read them. Its stack frames carry
 * the generation query of each load (`app.mjs?httpserver-generation=3`) and
 * frames of this library and Node that say nothing about the bug; and the
 * one line that matters, where in the script it threw, is often below them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isThenable } from '../callback-answer.js';
import type { Callback } from '../types.js';
import { GENERATION_PARAM, isLocalFile } from './hook-protocol.js';

/** This library's compiled files (dist/lib), which every generation shares. */
export const LIBRARY_DIR = path.resolve(__dirname, '..');

const GENERATION_QUERY = new RegExp(`\\?${GENERATION_PARAM}=\\d+`, 'g');

/** The error, in place, without the generation query in its message and stack, and without Node's and this library's frames. */
export function cleanError(error: Error): Error {
  error.message = error.message.replace(GENERATION_QUERY, '');
  if (typeof error.stack === 'string') {
    error.stack = error.stack.replace(GENERATION_QUERY, '').split('\n')
      .filter((line) => !(/^\s+at /.test(line) && (line.includes('node:internal') || line.includes(LIBRARY_DIR) || /node_modules[\\/]esbuild/.test(line)))).join('\n');
  }
  return error;
}

/**
 * `file:line:column` of the first stack frame in the user's own files (not
 * a package in node_modules, not this library, not Node), the file relative
 * to the working directory when it is below it. TypeScript frames are
 * already the `.ts` lines: the script loader enables source maps.
 */
export function scriptLocation(error: Error): string | undefined {
  const stack = typeof error.stack === 'string' ? error.stack : '';
  for (const line of stack.split('\n')) {
    // "    at name (FILE:LINE:COLUMN)" or "    at FILE:LINE:COLUMN", FILE a path or a file: URL.
    const frame = /^\s+at (?:.*\()?((?:file:\/\/|\/|[A-Za-z]:\\).+?):(\d+):(\d+)\)?$/.exec(line);
    if (frame === null) continue;
    const file = frame[1]!.startsWith('file:') ? fileURLToPath(frame[1]!.replace(GENERATION_QUERY, '')) : frame[1]!;
    if (!isLocalFile(file, LIBRARY_DIR)) continue;
    const relative = path.relative(process.cwd(), file);
    const shown = relative.split(path.sep)[0] === '..' || path.isAbsolute(relative) ? file : relative;
    return `${shown}:${frame[2]}:${frame[3]}`;
  }
  return undefined;
}

/**
 * `callback`, with what it throws or rejects with cleaned (see `cleanError`)
 * before the server reports it or, with `exposeErrors`, sends its stack. A
 * synchronous callback stays synchronous.
 */
export function withCleanErrors(callback: Callback): Callback {
  const clean = (error: unknown) => {
    try {
      if (error instanceof Error) cleanError(error);
    } catch {
      // A frozen error, or one whose message is a getter: reported as it is.
    }
    return error;
  };
  return (request) => {
    let result;
    try {
      result = callback(request);
    } catch (error) {
      throw clean(error);
    }
    return isThenable(result) ? Promise.resolve(result).catch((error: unknown) => { throw clean(error); }) : result;
  };
}

/** `error` with the script's location (see `scriptLocation`) at the end of its message, for a one-line report. */
export function withLocation(error: Error): Error {
  const where = scriptLocation(error);
  if (where === undefined) return error;
  const located = new Error(`${error.message} (at ${where})`);
  located.name = error.name;
  return located;
}
