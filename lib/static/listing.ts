import { opendir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import Negotiator from 'negotiator';
import { HttpError } from '../errors.js';
import type { HttpRequest, HttpResponse, OutgoingHeaders } from '../types.js';
import { isInside } from './safe-path.js';

export interface ListingOptions {
  /** Show entries whose name starts with '.'. */
  dotfiles: boolean;
  /**
   * The real path of the served root: a symlink whose target lies outside it
   * (which `serveDirectory` answers 404) is not listed, so that neither its
   * existence nor its target's size and date are shown.
   */
  root?: string;
  /**
   * Where the page's upload form posts to (a URL that stores files in this
   * very directory), or undefined for a page without a form.
   */
  uploadAction?: string | undefined;
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
 * Most entries one listing shows. A directory with a million files must not
 * cost a million `stat` calls and a 100 MB page per request; past the cap,
 * the page says the listing is incomplete.
 */
export const MAX_LISTING_ENTRIES = 10_000;

/** `stat` calls in flight at once while a listing is gathered. */
const STAT_CONCURRENCY = 32;

/**
 * The listing of the real directory `directory`, served at `urlPath` (decoded,
 * ending with '/'): an HTML page (escaped names, sizes, dates, strict CSP), or
 * JSON when the client asks for it (Accept: application/json).
 */
export async function listingResponse(request: HttpRequest, directory: string, urlPath: string, options: ListingOptions): Promise<HttpResponse> {
  const { entries, truncated } = await readEntries(directory, options);
  return render(request, urlPath, entries, truncated, options.uploadAction);
}

/**
 * The page for a list of entries already gathered (mount points at '/', for
 * one), shown in the order given: the caller chose it.
 */
export function entriesResponse(request: HttpRequest, urlPath: string, entries: ListingEntry[]): HttpResponse {
  return render(request, urlPath, entries, false);
}

/** The directory's files and subdirectories, directories first, each group sorted by name. */
async function readEntries(directory: string, options: ListingOptions): Promise<{ entries: ListingEntry[]; truncated: boolean }> {
  // opendir rather than readdir: readdir would read every name into memory before the cap could apply.
  let dir;
  try {
    dir = await opendir(directory, { bufferSize: 256 });
  } catch (error) {
    // Removed or made unreadable between the caller's checks and now: the answers a file would get.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new HttpError(404, 'Not Found');
    if (code === 'EACCES' || code === 'EPERM') throw new HttpError(403, 'Forbidden');
    throw error;
  }
  const names: string[] = [];
  const links = new Set<string>();
  let truncated = false;
  try {
    for await (const dirent of dir) {
      if (!options.dotfiles && dirent.name.startsWith('.')) continue;
      // Sockets, FIFOs and devices are never served, so they are not offered either.
      if (!dirent.isFile() && !dirent.isDirectory() && !dirent.isSymbolicLink()) continue;
      if (names.length === MAX_LISTING_ENTRIES) {
        truncated = true;
        break;
      }
      names.push(dirent.name);
      if (dirent.isSymbolicLink()) links.add(dirent.name);
    }
  } finally {
    // Breaking out of the loop closes the handle already; closing twice throws ERR_DIR_CLOSED.
    await dir.close().catch(() => {});
  }

  const entries: (ListingEntry | undefined)[] = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const index = next++;
      const name = names[index]!;
      entries[index] = links.has(name) && !(await linkStaysInside(directory, name, options))
        ? undefined
        : await describeEntry(directory, name);
    }
  };
  await Promise.all(Array.from({ length: Math.min(STAT_CONCURRENCY, names.length) }, worker));
  const present = entries.filter((entry): entry is ListingEntry => entry !== undefined);
  return { entries: present.sort(byKindThenName), truncated };
}

/** Whether a symlink's real target is inside the root (and not a dotfile there, when those are hidden). */
async function linkStaysInside(directory: string, name: string, options: ListingOptions): Promise<boolean> {
  if (options.root === undefined) return true;
  let real: string;
  try {
    real = await realpath(path.join(directory, name));
  } catch {
    return false;
  }
  if (!isInside(options.root, real)) return false;
  return options.dotfiles || !path.relative(options.root, real).split(path.sep).some((part) => part.startsWith('.'));
}

/**
 * One entry, from `stat` (which follows symlinks, so a link to a directory
 * is listed as a directory). Undefined for what cannot be served: a dangling
 * link, an entry removed since it was read, a special file behind a link.
 */
async function describeEntry(directory: string, name: string): Promise<ListingEntry | undefined> {
  let info;
  try {
    info = await stat(path.join(directory, name));
  } catch {
    return undefined;
  }
  if (info.isDirectory()) {
    return { name, href: `${encodeURIComponent(name)}/`, kind: 'directory', size: undefined, modified: info.mtime };
  }
  if (info.isFile()) {
    return { name, href: encodeURIComponent(name), kind: 'file', size: info.size, modified: info.mtime };
  }
  return undefined;
}

function byKindThenName(a: ListingEntry, b: ListingEntry): number {
  if (a.kind !== b.kind) return a.kind === 'directory' ? -1 : 1;
  // Code-point order: the same on every machine and locale, so tests and users see one order.
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function render(request: HttpRequest, urlPath: string, entries: ListingEntry[], truncated: boolean, uploadAction?: string): HttpResponse {
  const headers: OutgoingHeaders = {
    // A cache must not hand the JSON variant to a browser, or the page to a script.
    Vary: 'Accept',
    // The listing changes whenever the directory does.
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    // The page has no scripts at all: even a name that escaped escaping could not run. form-action
    // does not fall back to default-src: it is named so that the upload form may post here and nowhere else.
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'",
  };
  const { shown, encoded } = displayPath(urlPath);
  if (prefersJson(request)) {
    const body = {
      path: encoded,
      truncated,
      entries: entries.map((entry) => ({
        name: entry.name,
        href: entry.href,
        kind: entry.kind,
        size: entry.size ?? null,
        modified: entry.modified?.toISOString() ?? null,
      })),
    };
    return {
      statuscode: 200,
      headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' },
      message: JSON.stringify(body),
    };
  }
  return {
    statuscode: 200,
    headers: { ...headers, 'Content-Type': 'text/html; charset=utf-8' },
    message: page(shown, encoded, entries, truncated, uploadAction),
  };
}

/** True when the request's Accept ranks application/json above text/html (ties go to HTML). */
function prefersJson(request: HttpRequest): boolean {
  const accept = request.headers['accept'];
  if (accept === undefined) return false;
  const negotiator = new Negotiator({ headers: { accept: String(accept) } });
  return negotiator.mediaType(['text/html', 'application/json']) === 'application/json';
}

/**
 * `urlPath` is the decoded path (as serveDirectory passes it): shown as is in
 * the title, and percent-encoded one segment at a time for JSON's `path`.
 * Decoding it again would turn a directory named `%41` into `A`.
 */
function displayPath(urlPath: string): { shown: string; encoded: string } {
  return { shown: urlPath, encoded: urlPath.split('/').map((segment) => encodeURIComponent(segment)).join('/') };
}

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; background: #fff; }
h1 { font-size: 1.3em; font-weight: 600; word-break: break-all; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25em .75em; border-bottom: 1px solid #eee; }
th { font-weight: 600; border-bottom: 2px solid #ccc; }
td.size, th.size { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.modified { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.name { word-break: break-all; }
a { color: #0645ad; text-decoration: none; }
a:hover { text-decoration: underline; }
tr.directory a { font-weight: 600; }
p.note { color: #a33; }
form.upload { margin-top: 1.5em; padding: .75em; border: 1px solid #ccc; }
@media (prefers-color-scheme: dark) {
  body { color: #ddd; background: #111; }
  a { color: #8ab4f8; }
  th, td { border-color: #333; }
}`;

// The empty data: icon (allowed by img-src data:) spares the browser a /favicon.ico request per listing.
function page(shown: string, encoded: string, entries: ListingEntry[], truncated: boolean, uploadAction: string | undefined): string {
  const title = `Index of ${escapeHtml(shown)}`;
  const rows: string[] = [];
  if (encoded !== '/') {
    rows.push('<tr class="directory"><td class="name"><a href="../">../</a></td><td class="size"></td><td class="modified"></td></tr>');
  }
  for (const entry of entries) {
    const label = entry.kind === 'directory' ? `${entry.name}/` : entry.name;
    const size = entry.size === undefined ? '' : `<span title="${entry.size} bytes">${humanSize(entry.size)}</span>`;
    const modified = entry.modified === undefined
      ? ''
      : `<time datetime="${entry.modified.toISOString()}">${entry.modified.toISOString().slice(0, 16).replace('T', ' ')}</time>`;
    rows.push(
      `<tr class="${entry.kind}"><td class="name"><a href="${escapeHtml(entry.href)}">${escapeHtml(label)}</a></td>` +
      `<td class="size">${size}</td><td class="modified">${modified}</td></tr>`,
    );
  }
  const note = truncated
    ? `<p class="note">This directory has more than ${MAX_LISTING_ENTRIES.toLocaleString('en')} entries; only the first ${MAX_LISTING_ENTRIES.toLocaleString('en')} read are listed.</p>\n`
    : '';
  // A plain form, no script: the browser sends multipart/form-data and follows the 303 back here.
  const form = uploadAction === undefined
    ? ''
    : `<form class="upload" method="post" action="${escapeHtml(uploadAction)}" enctype="multipart/form-data">\n` +
      '<label>Upload files: <input type="file" name="file" multiple required></label>\n' +
      '<button type="submit">Upload</button>\n</form>\n';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>${STYLE}
</style>
</head>
<body>
<h1>${title}</h1>
${note}<table>
<thead><tr><th>Name</th><th class="size">Size</th><th>Modified (UTC)</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
${form}</body>
</html>
`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB"; bytes below 1 KiB stay exact. */
function humanSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in element content and in quoted attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}
