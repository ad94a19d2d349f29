/**
 * Loading a sample the way `httpserver run` does: its default export is the
 * callback. The samples stay at the package root when tests compile to dist/test/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Callback } from '../lib/index.js';

export const packageRoot = join(__dirname, '..', '..');
export const samplesDir = join(packageRoot, 'samples');

/** The sample's module, with its default export checked to be a callback. */
export async function importSample<T = Record<string, unknown>>(name: string): Promise<T & { default: Callback }> {
  const module = (await import(pathToFileURL(join(samplesDir, name)).href)) as T & { default: Callback };
  assert.equal(typeof module.default, 'function', `${name} has a default export`);
  return module;
}

export async function loadSample(name: string): Promise<Callback> {
  return (await importSample(name)).default;
}
