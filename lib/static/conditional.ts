import fresh from 'fresh';
import type { HttpRequest } from '../types.js';

/** The validators of the selected representation, as the response would send them. */
export interface Validators {
  etag?: string | undefined;
  lastModified?: string | undefined;
}

/** What the preconditions of a request say: go on, answer 304, or answer 412. */
export type Precondition = 'proceed' | 'not-modified' | 'failed';

/**
 * Evaluates the preconditions of `request` against the current validators,
 * in the order of RFC 9110, section 13.2.2: If-Match, else
 * If-Unmodified-Since (412 when false); then If-None-Match, else
 * If-Modified-Since for GET and HEAD (304 when the copy is fresh). If-Range
 * is step 5 and belongs to the range code.
 *
 * A validator the response does not send (the `etag` or `lastModified`
 * option is off) is treated as unknown: conditions on it do not match.
 */
export function checkPreconditions(request: Pick<HttpRequest, 'verb' | 'headers'>, validators: Validators): Precondition {
  const { headers } = request;
  const ifMatch = headers['if-match'];
  const ifUnmodifiedSince = headers['if-unmodified-since'];
  if (ifMatch !== undefined) {
    if (!matchesStrongly(ifMatch, validators.etag)) return 'failed';
  } else if (ifUnmodifiedSince !== undefined && validators.lastModified !== undefined) {
    // An invalid date is ignored (13.1.4), so NaN must not fail the request.
    const since = Date.parse(ifUnmodifiedSince);
    if (!Number.isNaN(since) && Date.parse(validators.lastModified) > since) return 'failed';
  }

  const safe = request.verb === 'GET' || request.verb === 'HEAD';
  const ifNoneMatch = headers['if-none-match'];
  if (!safe) {
    // For a method that changes state, a matching If-None-Match (e.g. `*` to
    // refuse overwriting an existing file) fails the request instead.
    return ifNoneMatch !== undefined && fresh({ 'if-none-match': ifNoneMatch }, { etag: validators.etag })
      ? 'failed'
      : 'proceed';
  }
  // If-Modified-Since is ignored when If-None-Match is present (13.1.3);
  // `fresh` would otherwise require both to hold. Cache-Control: no-cache
  // from the client (a forced reload) makes `fresh` answer stale.
  const conditions = ifNoneMatch !== undefined
    ? { 'if-none-match': ifNoneMatch, 'cache-control': headers['cache-control'] }
    : { 'if-modified-since': headers['if-modified-since'], 'cache-control': headers['cache-control'] };
  return fresh(conditions, { etag: validators.etag, 'last-modified': validators.lastModified }) ? 'not-modified' : 'proceed';
}

/** If-Match uses the strong comparison (RFC 9110, 8.8.3.2): weak tags never match. `*` matches any current representation. */
function matchesStrongly(header: string, current: string | undefined): boolean {
  if (header.trim() === '*') return true;
  if (current === undefined || current.startsWith('W/')) return false;
  return entityTags(header).includes(current);
}

/** The entity-tags of a list header, quotes kept; commas inside quotes do not split. */
export function entityTags(header: string): string[] {
  return header.match(/(?:W\/)?"[^"]*"/g) ?? [];
}
