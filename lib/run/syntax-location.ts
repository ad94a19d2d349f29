/**
 * Where a syntax error is. Node 20 rejects `import()` of a module that does
 * not parse with only "SyntaxError: Unexpected token ';'", no file and no
 * line, which leaves a beginner nothing to go on. esbuild (which already
 * transpiles TypeScript here) parses the same files and says where.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

type Esbuild = typeof import('esbuild');
let esbuild: Esbuild | undefined;

/** esbuild, loaded on first use: most scripts never need it. */
export function loadEsbuild(): Esbuild {
  esbuild ??= createRequire(__filename)('esbuild') as Esbuild;
  return esbuild;
}

interface Problem {
  text: string;
  location: { file: string; line: number; column: number; lineText: string } | null;
}

/**
 * A SyntaxError that reads like Node's own report of one, with no stack (its
 * frames would be the loader's, not the script's):
 *
 *     SyntaxError: /path/file.mjs:3:17: Unexpected ";"
 *
 *       return a +;
 *                 ^
 */
export function syntaxErrorOf(error: unknown, file: string): SyntaxError | undefined {
  const problem = (error as { errors?: Problem[] } | null)?.errors?.[0];
  if (problem === undefined) return undefined;
  const where = problem.location;
  let text = where === null ? `${file}: ${problem.text}` : `${file}:${where.line}:${where.column + 1}: ${problem.text}`;
  // The line itself, unless it is empty (an unfinished file ends on one).
  if (where !== null && where.lineText.trim() !== '') text += `\n\n  ${where.lineText}\n  ${caretUnder(where.lineText, where.column)}`;
  const syntaxError = new SyntaxError(text);
  syntaxError.stack = `SyntaxError: ${text}`;
  return syntaxError;
}

/** The first of `files` that does not parse, as a located SyntaxError; `undefined` when esbuild finds them all fine. */
export function locateSyntaxError(files: Iterable<string>): SyntaxError | undefined {
  for (const file of files) {
    const loader = LOADERS[path.extname(file)];
    if (loader === undefined) continue;
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    try {
      loadEsbuild().transformSync(source, { loader, format: 'esm', sourcefile: file, logLevel: 'silent' });
    } catch (error) {
      const located = syntaxErrorOf(error, file);
      if (located !== undefined) return located;
    }
  }
  return undefined;
}

/** Module files: CommonJS ones are left out, since Node's own CommonJS errors already say where. */
const LOADERS: Record<string, 'js' | 'ts'> = { '.mjs': 'js', '.js': 'js', '.ts': 'ts', '.mts': 'ts' };

/** Spaces up to `column`, keeping tabs so the caret lines up under a tab-indented line. */
function caretUnder(lineText: string, column: number): string {
  return `${lineText.slice(0, column).replace(/[^\t]/g, ' ')}^`;
}
