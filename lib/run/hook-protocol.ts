/**
 * What the loader hooks (hooks.mts, in Node's loader thread) and the script
 * loader (script-loader.ts, in the main thread) agree on.
 */
import path from 'node:path';
import type { MessagePort } from 'node:worker_threads';

/** The query parameter that makes each load of the script a new module graph. */
export const GENERATION_PARAM = 'httpserver-generation';

export interface HookData {
  port: MessagePort;
  /** This library's own files: shared by every generation, never reloaded. */
  libraryDir: string;
}

export type HookMessage =
  | { type: 'loaded'; generation: number; file: string }
  | { type: 'sync'; id: number }
  | { type: 'synced'; id: number };

/** The user's own files, as opposed to installed packages and this library. */
export function isLocalFile(file: string, libraryDir: string): boolean {
  return !file.split(path.sep).includes('node_modules') && !file.startsWith(libraryDir + path.sep);
}

export function isTypeScript(file: string): boolean {
  return file.endsWith('.ts') || file.endsWith('.mts');
}
