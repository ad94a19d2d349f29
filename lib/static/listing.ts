import type { HttpRequest, HttpResponse } from '../types.js';

export interface ListingOptions {
  /** Show entries whose name starts with '.'. */
  dotfiles: boolean;
}

/** One entry of a listing; `href` is already URL-encoded and relative to the listed directory's URL. */
export interface ListingEntry {
  name: string;
  href: string;
  kind: 'file' | 'directory';
  size: number | undefined;
  modified: Date | undefined;
}

/**
 * The listing of the real directory `directory`, served at `urlPath` (which
 * ends with '/'): an HTML page (escaped names, sizes, dates, strict CSP), or
 * JSON when the client asks for it (Accept: application/json).
 */
export async function listingResponse(request: HttpRequest, directory: string, urlPath: string, options: ListingOptions): Promise<HttpResponse> {
  void request; void directory; void urlPath; void options;
  throw new Error('listing.ts: not built yet');
}

/** The page for a list of entries already gathered (mount points at '/', for one). */
export function entriesResponse(request: HttpRequest, urlPath: string, entries: ListingEntry[]): HttpResponse {
  void request; void urlPath; void entries;
  throw new Error('listing.ts: not built yet');
}
