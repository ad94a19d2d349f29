/**
 * Plumbing for the trace tests: a traced server whose output is collected,
 * and the normalisation of what varies from run to run (ports, ids, the
 * Date header, milliseconds).
 */
import type { TestContext } from 'node:test';
import type { Callback, ServerOptions } from '../lib/index.js';
import type { TraceOptions } from '../lib/options.js';
import { serve, sleep, type Served } from './support.js';

export interface Traced extends Served {
  /** Everything the trace printed so far. */
  readonly output: string;
  /** Resolves true once the output matches `pattern`, false after `timeoutMs`. */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<boolean>;
}

export async function serveTraced(
  t: TestContext, callback: Callback, trace: Omit<TraceOptions, 'output'> = {}, options: ServerOptions = {},
): Promise<Traced> {
  const blocks: string[] = [];
  const served = await serve(t, callback, { ...options, trace: { ...trace, output: (text) => { blocks.push(text); } } });
  const output = () => blocks.join('');
  return {
    ...served,
    get output() { return output(); },
    async waitFor(pattern, timeoutMs = 2000) {
      const matches = () => (typeof pattern === 'string' ? output().includes(pattern) : pattern.test(output()));
      for (let waited = 0; waited < timeoutMs; waited += 5) {
        if (matches()) return true;
        await sleep(5);
      }
      return matches();
    },
  };
}

export function normalize(text: string): string {
  return text
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
    .replace(/remoteportnum: \d+/g, 'remoteportnum: PORT')
    .replace(/httpdid: \d+/g, 'httpdid: ID')
    .replace(/after \d+ ms/g, 'after N ms')
    .replace(/Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT/g, 'Date: DATE');
}

/** The lines of `text` that are bytes of the given direction, without their marker. */
export function wireLines(text: string, direction: '>' | '<'): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${direction} `)).map((line) => line.slice(2));
}
