/**
 * Descriptor accounting for the static tests: which files this process
 * holds open, read from /proc/self/fd (Linux), so a test can show that
 * every handle an answer opened was closed again.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { sleep } from './support.js';

/** Descriptors of this process open on files inside `dir`. */
export function openIn(dir: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) open.push(target);
    } catch {
      // Closed between readdir and readlink (the readdir's own descriptor, for one).
    }
  }
  return open;
}

/** Polls until no descriptor is open in `dir` (closing is asynchronous), for at most 2 s; returns those still open. */
export async function allClosed(dir: string): Promise<string[]> {
  const until = Date.now() + 2000;
  for (;;) {
    const open = openIn(dir);
    if (open.length === 0 || Date.now() > until) return open;
    await sleep(10);
  }
}
