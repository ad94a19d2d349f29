import { HttpError } from '../errors.js';
import type { CorsMode } from '../options.js';
import type { HttpRequest } from '../types.js';

/**
 * Refuses (403) a write that a browser sends on behalf of a page from
 * another origin. A form POST, or a simple `fetch`, crosses sites without
 * a preflight, so without this any page a student happens to open could
 * fill or empty a classroom's upload directory on localhost. Browsers say
 * where a request comes from (`Sec-Fetch-Site`, else `Origin`); a client
 * that says neither (curl, a script) is not acting for a page and passes.
 * With `cors` on, cross-origin writes are what the operator asked for.
 */
export function refuseCrossOriginWrite(request: HttpRequest, cors: CorsMode): void {
  if (cors !== 'off') return;
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) {
    // 'none': the user's own action (typed, bookmarked); 'same-site' is still another origin (another port).
    if (site === 'same-origin' || site === 'none') return;
    throw crossOrigin();
  }
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (originHost(origin) !== (request.headers.host ?? '').toLowerCase()) throw crossOrigin();
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    // `null` (a sandboxed page, a file: URL) or garbage: no origin this server is.
    return undefined;
  }
}

function crossOrigin(): HttpError {
  return new HttpError(403, 'A page from another origin may not upload or delete here (serve with cors on to allow it)');
}
