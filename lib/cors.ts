import type { CorsMode } from './options.js';

/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = '600';

/**
 * The request headers CORS looks at, with lower-case names: Node's
 * `message.headers` and the request dictionary's `headers` both fit.
 */
export type CorsRequestHeaders = { readonly [name: string]: string | string[] | undefined };

/**
 * The CORS headers for a response, following GPAC httpout's `cors` option:
 * `'on'` always allows every origin, `'auto'` only when the request carries
 * `Origin` (so plain clients see no CORS noise), `'off'` never. The server
 * option and `serveDirectory` both answer with these.
 */
export function corsHeaders(mode: CorsMode, headers: CorsRequestHeaders): Array<[string, string]> | undefined {
  if (mode === 'off' || (mode === 'auto' && headers.origin === undefined)) return undefined;
  return [['Access-Control-Allow-Origin', '*']];
}

/** A browser's preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. */
export function isPreflight(mode: CorsMode, method: string | undefined, headers: CorsRequestHeaders): boolean {
  return mode !== 'off' && method === 'OPTIONS' &&
    headers.origin !== undefined && headers['access-control-request-method'] !== undefined;
}

/**
 * The 204 answer to a preflight. The headers the browser asks for are
 * allowed; so are the methods in `allow` when the server knows them (a file
 * server does), else the method asked for.
 */
export function preflightHeaders(headers: CorsRequestHeaders, allow?: string): Array<[string, string]> {
  const answer: Array<[string, string]> = [
    ['Access-Control-Allow-Origin', '*'],
    ['Access-Control-Allow-Methods', allow ?? String(headers['access-control-request-method'])],
    ['Access-Control-Max-Age', PREFLIGHT_MAX_AGE],
  ];
  const asked = headers['access-control-request-headers'];
  if (asked !== undefined) answer.push(['Access-Control-Allow-Headers', String(asked)]);
  return answer;
}
