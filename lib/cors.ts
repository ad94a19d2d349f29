import type { IncomingMessage } from 'node:http';
import type { CorsMode } from './options.js';

/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = '600';

/**
 * The CORS headers for a response, following GPAC httpout's `cors` option:
 * `'on'` always allows every origin, `'auto'` only when the request carries
 * `Origin` (so plain clients see no CORS noise), `'off'` never.
 */
export function corsHeaders(mode: CorsMode, request: IncomingMessage): Array<[string, string]> | undefined {
  if (mode === 'off' || (mode === 'auto' && request.headers.origin === undefined)) return undefined;
  return [['Access-Control-Allow-Origin', '*']];
}

/** A browser's preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. */
export function isPreflight(mode: CorsMode, request: IncomingMessage): boolean {
  return mode !== 'off' && request.method === 'OPTIONS' &&
    request.headers.origin !== undefined && request.headers['access-control-request-method'] !== undefined;
}

/** The 204 answer to a preflight: whatever method and headers the browser asks for are allowed. */
export function preflightHeaders(request: IncomingMessage): Array<[string, string]> {
  const headers: Array<[string, string]> = [
    ['Access-Control-Allow-Origin', '*'],
    ['Access-Control-Allow-Methods', String(request.headers['access-control-request-method'])],
    ['Access-Control-Max-Age', PREFLIGHT_MAX_AGE],
  ];
  const asked = request.headers['access-control-request-headers'];
  if (asked !== undefined) headers.push(['Access-Control-Allow-Headers', asked]);
  return headers;
}
