/**
 * Module hooks for `httpserver run`, registered with `module.register`;
 * they run in Node's loader thread. They do three things:
 *
 * - Reloading. Every load of the script is a generation: the main thread
 *   imports `script.mjs?httpserver-generation=N`, and each local file that
 *   generation imports gets the same query, so the whole graph of the
 *   user's own files is evaluated afresh (ES modules cannot be evicted from
 *   the cache; a new URL is a new module). Packages and this library are
 *   never versioned: one registry, one `HttpError` class, one copy of each
 *   dependency for the life of the process.
 * - TypeScript. Node 20 cannot run it, so `.ts` and `.mts` files are
 *   transpiled to JavaScript (types stripped, as ES modules) with esbuild,
 *   loaded only when a TypeScript file is.
 * - Watching. Every local file loaded is reported to the main thread,
 *   which watches them for changes.
 */
import { readFileSync } from 'node:fs';
import type { LoadHook, ResolveHook } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { GENERATION_PARAM, isLocalFile, isTypeScript, type HookData, type HookMessage } from './hook-protocol.js';
import { loadEsbuild, syntaxErrorOf } from './syntax-location.js';

let port: MessagePort | undefined;
let libraryDir = '';

export function initialize(data: HookData): void {
  port = data.port;
  libraryDir = data.libraryDir;
  // Messages sent so far are delivered in order, so this answer tells the main thread it has heard of every file loaded before.
  port.on('message', (message: HookMessage) => {
    if (message.type === 'sync') port!.postMessage({ type: 'synced', id: message.id } satisfies HookMessage);
  });
}

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const generation = generationOf(context.parentURL);
  let resolved;
  try {
    resolved = await nextResolve(specifier, context);
  } catch (error) {
    resolved = await resolveTypeScript(specifier, context.parentURL, nextResolve, context);
    if (resolved === undefined) throw error;
  }
  if (generation === undefined || !resolved.url.startsWith('file:') || !isLocalFile(fileURLToPath(resolved.url), libraryDir)) {
    return resolved;
  }
  const url = new URL(resolved.url);
  url.searchParams.set(GENERATION_PARAM, generation);
  return { ...resolved, url: url.href };
};

export const load: LoadHook = async (url, context, nextLoad) => {
  const generation = generationOf(url);
  if (generation === undefined || !url.startsWith('file:')) return nextLoad(url, context);
  const file = fileURLToPath(url);
  // Reported before it is compiled: a file that fails to parse must be watched too, to notice its fix.
  port?.postMessage({ type: 'loaded', generation: Number(generation), file } satisfies HookMessage);
  if (!isTypeScript(file)) return nextLoad(url, context);
  return { format: 'module', source: transpile(readFileSync(file, 'utf8'), file), shortCircuit: true };
};

function generationOf(url: string | undefined): string | undefined {
  if (url === undefined || !url.startsWith('file:')) return undefined;
  return new URL(url).searchParams.get(GENERATION_PARAM) ?? undefined;
}

function transpile(source: string, file: string): string {
  try {
    return loadEsbuild().transformSync(source, {
      loader: 'ts', format: 'esm', target: `node${process.versions.node.split('.')[0]}`,
      // Inline source maps let stack traces point at the .ts lines (the main thread enables them).
      sourcemap: 'inline', sourcefile: file, logLevel: 'silent',
    }).code;
  } catch (error) {
    throw syntaxErrorOf(error, file) ?? error;
  }
}

/**
 * TypeScript's own resolution, for imports written in a `.ts` file the way
 * `tsc` wants them: `./util.js` that is really `./util.ts`, and `./util`
 * without an extension. Only relative imports from TypeScript files.
 */
async function resolveTypeScript(
  specifier: string, parentURL: string | undefined,
  nextResolve: Parameters<ResolveHook>[2], context: Parameters<ResolveHook>[1],
) {
  if (parentURL === undefined || !isTypeScript(fileURLToPath(parentURL)) || !/^\.{1,2}\//.test(specifier)) return undefined;
  const candidates = /\.m?js$/.test(specifier)
    ? [specifier.replace(/js$/, 'ts')]
    : [`${specifier}.ts`, `${specifier}/index.ts`, `${specifier}.mts`];
  for (const candidate of candidates) {
    try {
      return await nextResolve(candidate, context);
    } catch {
      // Try the next spelling; the original error is the one reported.
    }
  }
  return undefined;
}
