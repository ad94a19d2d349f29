/**
 * The values of the `httpserver` flags that need more than `parseArgs`:
 * directories, sizes, seconds, headers, certificates. Each one is checked
 * at once and refused with a usage error that names the flag.
 */
import { statSync } from 'node:fs';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { loadTls } from '../tls-files.js';
import type { OutgoingHeaders } from '../types.js';
import { UsageError } from './shared.js';

/** The path of an existing directory, or a usage error naming the argument. */
export function expectDirectory(dir: string, what: string): string {
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`${what} '${dir}' does not exist`);
  }
  if (!isDirectory) throw new UsageError(`${what} '${dir}' is not a directory`);
  return dir;
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** `--max-upload 10M`: bytes, or a number with K, M or G (powers of 1024, an optional B after them). */
export function parseSize(flag: string, text: string): number {
  const match = /^(\d+)([KMG]?)B?$/i.exec(text.trim());
  const bytes = match ? Number(match[1]) * SIZE_UNITS[match[2]!.toUpperCase()]! : NaN;
  if (!(bytes >= 1 && bytes <= Number.MAX_SAFE_INTEGER)) {
    throw new UsageError(`${flag} takes a size such as 512K, 10M, 1G or a number of bytes (at least 1), got '${text}'`);
  }
  return bytes;
}

/** `--cache 3600`: a whole number of seconds, up to a year (RFC 9111 §5.2.2.1 puts no limit; browsers cap it). */
export function parseSeconds(flag: string, text: string): number {
  const seconds = /^\d{1,8}$/.test(text) ? Number(text) : NaN;
  if (!(seconds <= 365 * 24 * 3600)) {
    throw new UsageError(`${flag} takes a whole number of seconds from 0 to 31536000 (a year), got '${text}'`);
  }
  return seconds;
}

/** `--header 'Name: value'`, repeatable; the same name twice sends both values. */
export function parseHeaders(specs: string[]): OutgoingHeaders {
  const headers: Record<string, string[]> = {};
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header must look like 'Name: value', got '${spec}'`);
    const name = spec.slice(0, colon).trim();
    const value = spec.slice(colon + 1).trim();
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch (error) {
      throw new UsageError(`--header '${spec}': ${(error as Error).message}`);
    }
    // Grouped case-insensitively, keeping the first spelling, as HTTP treats names.
    const key = Object.keys(headers).find((existing) => existing.toLowerCase() === name.toLowerCase()) ?? name;
    (headers[key] ??= []).push(value);
  }
  return Object.fromEntries(Object.entries(headers).map(([name, values]) => [name, values.length === 1 ? values[0]! : values]));
}

/**
 * `--tls-cert FILE --tls-key FILE`, read and checked (see `loadTls`) before
 * the server starts, so that every message names the flag and the file. A
 * file that is missing or unreadable is a usage error (exit 2); one that is
 * there but is not the PEM it should be, or a key that is not the
 * certificate's, fails the start (exit 1).
 */
export async function readTlsFlags(
  cert: string | undefined, key: string | undefined,
): Promise<{ cert: Buffer | string; key: Buffer | string } | undefined> {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) throw new UsageError('--tls-cert and --tls-key go together');
  try {
    return await loadTls({ cert, key }, { cert: '--tls-cert', key: '--tls-key' });
  } catch (error) {
    if ((error as Error).cause !== undefined) throw new UsageError((error as Error).message);
    throw error;
  }
}
