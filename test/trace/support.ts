/**
 * Plumbing for the trace tests: a traced server whose output is collected,
 * and the normalisation of what varies from run to run (ports, ids, the
 * Date header, milliseconds).
 */
import type { TestContext } from 'node:test';
import type { Callback, ServerOptions } from '../../lib/index.js';
import type { TraceOptions } from '../../lib/options.js';
import { serve, sleep, type Served } from '../support.js';

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

/** The exchange both the library's and the command line's wire tests trace. */
export const hello = (request: { querydict: Record<string, unknown> }) =>
  ({ statuscode: 200, message: `Hello, ${String(request.querydict.name)}!\n` });

export const ADA_REQUEST = 'GET /hello?name=Ada HTTP/1.1\r\nHost: localhost:8080\r\nConnection: close\r\n\r\n';

/** `hello` answering ADA_REQUEST, as the wire trace prints it (normalised). */
export const ADA_TRANSCRIPT = [
    '── connection 1 ── 127.0.0.1:PORT',
    '> GET /hello?name=Ada HTTP/1.1\\r\\n',
    '> Host: localhost:8080\\r\\n',
    '> Connection: close\\r\\n',
    '> \\r\\n',
    '── request 1 ── GET /hello?name=Ada from 127.0.0.1:PORT',
    '{',
    "  verb: 'GET',",
    "  path: '/hello',",
    "  querystr: 'name=Ada',",
    "  querydict: { name: 'Ada' },",
    "  version: '1.1',",
    '  datastream: <no body>,',
    "  headers: { Host: 'localhost:8080', Connection: 'close' },",
    '  httpdid: ID,',
    "  remoteipstr: '127.0.0.1',",
    '  remoteportnum: PORT',
    '}',
    '── response 1 ── after N ms',
    '{',
    '  statuscode: 200,',
    "  message: 'Hello, Ada!\\n'",
    '}',
    '< HTTP/1.1 200 OK\\r\\n',
    '< Content-Type: text/plain; charset=utf-8\\r\\n',
    '< Content-Length: 12\\r\\n',
    '< Date: DATE\\r\\n',
    '< Connection: close\\r\\n',
    '< \\r\\n',
    '< Hello, Ada!\\n',
    '── connection 1 closed',
    '',
].join('\n');
