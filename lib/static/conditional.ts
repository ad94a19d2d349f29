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
  const safe = request.verb === 'GET' || request.verb === 'HEAD';
  if (!safe) return writePreconditionsHold(headers, validators) ? 'proceed' : 'failed';
  if (!matchConditionsHold(headers, validators)) return 'failed';

  const ifNoneMatch = headers['if-none-match'];
  // If-Modified-Since is ignored when If-None-Match is present (13.1.3);
  // `fresh` would otherwise require both to hold. Cache-Control: no-cache
  // from the client (a forced reload) makes `fresh` answer stale.
  const conditions = ifNoneMatch !== undefined
    ? { 'if-none-match': ifNoneMatch, 'cache-control': headers['cache-control'] }
    : { 'if-modified-since': headers['if-modified-since'], 'cache-control': headers['cache-control'] };
  return fresh(conditions, { etag: validators.etag, 'last-modified': validators.lastModified }) ? 'not-modified' : 'proceed';
}

/**
 * Whether the preconditions of a state-changing request (PUT, POST,
 * DELETE) hold for the target's `current` validators, `undefined` when the
 * target does not exist (RFC 9110, 13.2.2 steps 1 to 3): If-Match (else
 * If-Unmodified-Since), then If-None-Match, whose match fails the request
 * rather than giving a 304. `If-Match: *` needs a current file and
 * `If-None-Match: *` needs there to be none, so a client can say "overwrite
 * only" or "create only". If-Unmodified-Since on a missing file is ignored:
 * it has no date to compare (13.1.4). Unlike GET, Cache-Control plays no
 * part here.
 */
export function writePreconditionsHold(headers: HttpRequest['headers'], current: Validators | undefined): boolean {
  if (headers['if-match'] !== undefined && current === undefined) return false;
  if (current !== undefined && !matchConditionsHold(headers, current)) return false;
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch === undefined || current === undefined) return true;
  if (ifNoneMatch.trim() === '*') return false;
  // The weak comparison (13.1.2): the opaque tags equal, W/ or not.
  const tag = current.etag?.replace(/^W\//, '');
  return tag === undefined || !entityTags(ifNoneMatch).some((listed) => listed.replace(/^W\//, '') === tag);
}

/** Steps 1 and 2: If-Match, else If-Unmodified-Since, against a current representation. */
function matchConditionsHold(headers: HttpRequest['headers'], validators: Validators): boolean {
  const ifMatch = headers['if-match'];
  const ifUnmodifiedSince = headers['if-unmodified-since'];
  if (ifMatch !== undefined) return matchesStrongly(ifMatch, validators.etag);
  if (ifUnmodifiedSince !== undefined && validators.lastModified !== undefined) {
    // An invalid date is ignored (13.1.4), so NaN must not fail the request.
    const since = Date.parse(ifUnmodifiedSince);
    if (!Number.isNaN(since) && Date.parse(validators.lastModified) > since) return false;
  }
  return true;
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
