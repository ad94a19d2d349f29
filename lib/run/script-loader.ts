/**
 * Loads the callback a script exports, again and again: each `load()` is a
 * new generation of the script and of every local file it imports (see
 * hooks.mts), so an edited file is really re-evaluated. The hooks report
 * which files each generation loaded; those are the files to watch.
 */
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe } from '../errors.js';
import type { Callback } from '../types.js';
import { GENERATION_PARAM, isLocalFile, type HookData, type HookMessage } from './hook-protocol.js';
import { LIBRARY_DIR, cleanError } from './script-errors.js';
import { locateSyntaxError } from './syntax-location.js';

export type LoadResult =
  | { ok: true; callback: Callback; files: string[] }
  | { ok: false; error: Error; files: string[] };

/** The extensions `httpserver run` accepts, and how each one is loaded. */
export const SCRIPT_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts'];

let hooksPort: MessagePort | undefined;

/** The hooks are process-wide: registered once, on the first load. */
function registerHooks(): MessagePort {
  if (hooksPort !== undefined) return hooksPort;
  const { port1, port2 } = new MessageChannel();
  register<HookData>(pathToFileURL(path.join(__dirname, 'hooks.mjs')).href, {
    data: { port: port2, libraryDir: LIBRARY_DIR },
    transferList: [port2],
  });
  // A port must not keep a stopped server's process alive.
  port1.unref();
  // Stack traces of transpiled TypeScript then point at the .ts lines.
  process.setSourceMapsEnabled(true);
  hooksPort = port1;
  return port1;
}

export class ScriptLoader {
  readonly script: string;
  #generation = 0;
  readonly #filesOf = new Map<number, Set<string>>();
  readonly #syncs = new Map<number, () => void>();
  #lastSync = 0;

  constructor(script: string) {
    this.script = path.resolve(script);
  }

  /** Imports a fresh generation of the script. Never throws: a failure says why, and which files to watch for its fix. */
  async load(): Promise<LoadResult> {
    const port = registerHooks();
    port.on('message', this.#onMessage);
    const generation = ++this.#generation;
    this.#filesOf.set(generation, new Set([this.script]));
    forgetCommonJs();
    const url = new URL(pathToFileURL(this.script));
    url.searchParams.set(GENERATION_PARAM, String(generation));
    let result: LoadResult;
    try {
      const namespace = (await import(url.href)) as Record<string, unknown>;
      result = { ok: true, callback: callbackOf(namespace, this.script), files: [] };
    } catch (error) {
      result = { ok: false, error: cleanError(asLoadError(error)), files: [] };
    }
    await this.#sync(port);
    port.off('message', this.#onMessage);
    const files = this.#filesOf.get(generation)!;
    this.#filesOf.delete(generation);
    // CommonJS files are loaded by Node's require, which the hooks do not see.
    for (const file of Object.keys(require.cache)) if (isLocalFile(file, LIBRARY_DIR)) files.add(file);
    result.files = [...files];
    // Node 20 does not say where a module fails to parse; find the file and line for it.
    if (!result.ok && result.error.name === 'SyntaxError' && !hasLocation(result.error)) {
      result.error = locateSyntaxError(result.files) ?? result.error;
    }
    return result;
  }

  readonly #onMessage = (message: HookMessage) => {
    if (message.type === 'loaded') this.#filesOf.get(message.generation)?.add(message.file);
    else if (message.type === 'synced') this.#syncs.get(message.id)?.();
  };

  /** Waits until the hooks' reports of this load have all arrived: they come in order, before the answer to this. */
  #sync(port: MessagePort): Promise<void> {
    const id = ++this.#lastSync;
    return new Promise((resolve) => {
      this.#syncs.set(id, () => {
        this.#syncs.delete(id);
        resolve();
      });
      port.postMessage({ type: 'sync', id } satisfies HookMessage);
    });
  }
}

/**
 * CommonJS modules are cached by file name, whatever the URL they were
 * imported by: the user's own are forgotten so the next generation runs them again.
 */
function forgetCommonJs(): void {
  for (const file of Object.keys(require.cache)) if (isLocalFile(file, LIBRARY_DIR)) delete require.cache[file];
}

/** The callback a script exports, or an error that says what to export. */
function callbackOf(namespace: Record<string, unknown>, script: string): Callback {
  const name = path.basename(script);
  let value = namespace.default;
  // TypeScript compiled to CommonJS (`exports.default = fn`) arrives wrapped once more.
  if (typeof value === 'object' && value !== null && typeof (value as { default?: unknown }).default === 'function') {
    value = (value as { default: unknown }).default;
  }
  if (typeof value === 'function') return value as Callback;
  const commonJs = isCommonJs(script);
  const example = commonJs
    ? '  module.exports = function (request) {\n    return { statuscode: 200, message: \'Hello!\\n\' };\n  };'
    : '  export default function (request) {\n    return { statuscode: 200, message: \'Hello!\\n\' };\n  }';
  // The likeliest mistake: exporting the response itself instead of a function that returns it.
  const looksLikeResponse = typeof value === 'object' && value !== null && 'statuscode' in value;
  const functions = Object.keys(namespace).filter((key) => key !== 'default' && typeof namespace[key] === 'function');
  const hint = functions.length === 0 ? '' : `\n${name} exports ${functions.map((key) => `'${key}'`).join(', ')}: ` +
    `write '${commonJs ? 'module.exports =' : 'export default'} ${functions[0]};' to serve it.\n`;
  const responseHint = looksLikeResponse
    ? 'It looks like a response dictionary: export a function that returns it, so it runs for each request.\n' : '';
  // A CommonJS file that assigns nothing exports an empty object.
  const what = value === undefined || (commonJs && isEmptyObject(value))
    ? `${name} has no default export`
    : `The default export of ${name} is ${describe(value)}, not a function`;
  throw new ScriptError(`${what}. httpserver run serves the function a script exports as its default, like this:\n\n${example}\n${hint}${responseHint}`);
}

/** Whether Node runs `file` as CommonJS: `.cjs`, or `.js` outside a `"type": "module"` package. */
function isCommonJs(file: string): boolean {
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { type?: unknown };
      return manifest.type !== 'module';
    } catch {
      // No (readable) package.json here: look further up.
    }
    if (path.dirname(dir) === dir) return true;
  }
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

/** A script that loaded but does not export a callback. */
export class ScriptError extends Error {
  override name = 'ScriptError';
}

/** Whether Node already said where (CommonJS syntax errors and runtime errors do). */
function hasLocation(error: Error): boolean {
  return /^\s+at .*:\d+:\d+\)?$/m.test(error.stack ?? '') || /^\S+:\d+\n/.test(error.stack ?? '');
}

/** What a load threw, as an Error: a script may throw anything, a string say. */
function asLoadError(error: unknown): Error {
  return error instanceof Error ? error : new Error(`The script threw a non-error value: ${describe(error)}`);
}
