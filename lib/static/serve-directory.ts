import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { corsHeaders, isPreflight, preflightHeaders } from '../cors.js';
import { HttpError } from '../errors.js';
import type { HttpRequest, HttpResponse, OutgoingHeaders, OutgoingHeaderValue } from '../types.js';
import { closeFile } from './file-body.js';
import { openServedFile } from './file-info.js';
import { fileResponse, type FileResponseOptions } from './file-response.js';
import { entriesResponse, listingResponse, type ListingEntry } from './listing.js';
import { findPrecompressed } from './precompressed.js';
import { realPathInside, resolveRequestPath } from './safe-path.js';
import type { ServedFile } from './served-file.js';
import { resolveStaticOptions, type Mount, type ServeDirectoryOptions, type StaticOptions } from './static-options.js';
import { refuseCrossOriginWrite } from './same-origin.js';
import { uploadResponse } from './upload.js';
import { uploadUrlOf } from './upload-location.js';

export type { ServeDirectoryOptions } from './static-options.js';

/** A callback made by `serveDirectory`: it can be registered as is, or called from another callback. */
export type StaticCallback = (request: HttpRequest) => Promise<HttpResponse>;

/**
 * A file server in one callback, in the manner of GPAC's httpout: GET and
 * HEAD of files below one or several directories, OPTIONS, and uploads when
 * asked for. Returns the response object, or throws `HttpError` (404, 405,
 * 412, ...) with a generic message: a user's callback can call it to
 * delegate a request, and catch the 404 to answer otherwise. A file's
 * answer holds the open file in its `message` stream: return it (the
 * library closes it however the answer ends), or destroy that stream.
 *
 * @example
 * await registerCallback(['127.0.0.1', 8080], serveDirectory({ root: 'public' }));
 */
export function serveDirectory(options: ServeDirectoryOptions): StaticCallback {
  // Validated now, so that a typo or a missing directory fails at startup rather than per request.
  const config = resolveStaticOptions(options);
  const methods = ['GET', 'HEAD', 'OPTIONS'];
  if (config.upload !== undefined) methods.push('PUT', 'POST', ...(config.upload.allowDelete ? ['DELETE'] : []));
  const allow = methods.join(', ');
  const fileOptions: FileResponseOptions = {
    etag: config.etag,
    lastModified: config.lastModified,
    cacheControl: config.cacheControl,
    compress: config.compress,
    ranges: true,
  };

  return async (request) => {
    const extra = extraHeaders(config, request);
    try {
      return withExtraHeaders(await dispatch(request), extra);
    } catch (error) {
      // Errors get the CORS and configured headers too: a browser may only read a 404 that carries CORS.
      if (error instanceof HttpError && extra.length > 0) {
        throw new HttpError(error.status, error.message, {
          headers: withExtraHeaders({ statuscode: error.status, headers: { ...error.headers } }, extra).headers!,
          expose: error.expose,
          cause: error,
        });
      }
      throw error;
    }
  };

  async function dispatch(request: HttpRequest): Promise<HttpResponse> {
    if (isPreflight(config.cors, request.verb, request.headers)) {
      return { statuscode: 204, headers: Object.fromEntries(preflightHeaders(request.headers, allow)) };
    }
    switch (request.verb) {
      case 'GET':
      case 'HEAD':
        return read(request);
      case 'OPTIONS':
        return { statuscode: 204, headers: { Allow: allow } };
      case 'PUT':
      case 'POST':
      case 'DELETE':
        if (methods.includes(request.verb)) {
          refuseCrossOriginWrite(request, config.cors);
          return uploadResponse(request, targetPath(request), config.upload!);
        }
    }
    throw new HttpError(405, 'Method Not Allowed', { headers: { Allow: allow } });
  }

  async function read(request: HttpRequest): Promise<HttpResponse> {
    const target = targetPath(request);
    if (config.single) return readInMount(request, config.mounts[0]!, '', target);
    if (target === '/') return mountPoints(request);
    const rawName = target.slice(1).split('/', 1)[0]!;
    const name = decodeSegment(rawName);
    const mount = config.mounts.find((candidate) => candidate.name === name);
    if (mount === undefined) throw notFound();
    return readInMount(request, mount, `/${encodeURIComponent(mount.name)}`, target.slice(1 + rawName.length));
  }

  /** `rest` is the raw request path below the mount (`''` for the mount itself); `prefix` is the mount's URL. */
  async function readInMount(request: HttpRequest, mount: Mount, prefix: string, rest: string): Promise<HttpResponse> {
    try {
      return await readPath(request, mount, prefix, rest);
    } catch (error) {
      if (config.spa !== undefined && error instanceof HttpError && error.status === 404 && wantsSpa(request, rest)) {
        const spa = await findFile(mount, `/${config.spa.split('/').map(encodeURIComponent).join('/')}`).catch(() => undefined);
        if (spa !== undefined && spa.info.isFile()) return sendServed(request, mount, spa.joined, spa.real, spa.real);
      }
      throw error;
    }
  }

  async function readPath(request: HttpRequest, mount: Mount, prefix: string, rest: string): Promise<HttpResponse> {
    const { segments, joined, real, info } = await findFile(mount, rest === '' ? '/' : rest);
    const slash = rest.endsWith('/');
    if (info.isDirectory()) {
      const url = `${prefix}/${segments.map(encodeURIComponent).join('/')}${segments.length > 0 ? '/' : ''}`;
      // Relative links in the page only work from the slash form. The Location is
      // rebuilt from the checked segments, never echoed: `//host` or `/\host` would leave the site.
      if (!slash) {
        const query = request.querystr === null ? '' : `?${request.querystr}`;
        return { statuscode: 301, headers: { Location: `${url}${query}` }, message: '' };
      }
      for (const index of config.index) {
        const candidate = path.join(real, index);
        const found = await fileBelow(mount, candidate);
        if (found !== undefined) return sendServed(request, mount, candidate, found.real, index);
      }
      if (config.list) {
        // The form is offered only where a POST stores files into the directory shown.
        const uploadAction = config.upload === undefined ? undefined : uploadUrlOf(config.upload, real);
        return listingResponse(request, real, decodeURIComponent(url), { dotfiles: config.dotfiles, root: mount.root, uploadAction });
      }
      throw notFound();
    }
    // A file asked for as a directory (`/a.txt/`) is not there, as for the file system (ENOTDIR);
    // FIFOs, sockets and devices are never served (a FIFO would hang the response).
    if (slash || !info.isFile()) throw notFound();
    return sendServed(request, mount, joined, real, segments.at(-1)!);
  }

  /**
   * Opens the file (its fstat decides size and validators; 403, 503 when it
   * cannot be opened) and answers with it, or with its precompressed sibling.
   * `joined` is the path as requested (before symlinks are resolved), to
   * which a sibling's suffix is added; `name` decides the Content-Type.
   */
  async function sendServed(request: HttpRequest, mount: Mount, joined: string, real: string, name: string): Promise<HttpResponse> {
    const file = await openServedFile(real, name);
    let sibling;
    try {
      sibling = config.precompressed ? await findPrecompressed(request, name, (suffix) => openSibling(mount, joined + suffix, name)) : undefined;
    } catch (error) {
      closeFile(file);
      throw error;
    }
    if (sibling === undefined) return fileResponse(request, file, fileOptions);
    closeFile(file);
    return fileResponse(request, sibling.file, fileOptions, sibling.encoding);
  }

  /** A sibling passes the same checks as any file (inside the root, no escaping symlink, no hidden target); undefined when absent or refused. */
  async function openSibling(mount: Mount, candidate: string, name: string): Promise<ServedFile | undefined> {
    try {
      const real = await realPathInside(mount.root, candidate);
      hideDotTargets(mount.root, real);
      return await openServedFile(real, name);
    } catch (error) {
      if (error instanceof HttpError && (error.status === 404 || error.status === 403)) return undefined;
      throw error;
    }
  }

  /** Steps 1 to 6 of the path checks, then stat. */
  async function findFile(mount: Mount, urlPath: string): Promise<{ segments: string[]; joined: string; real: string; info: Stats }> {
    const resolved = resolveRequestPath(mount.root, urlPath, { dotfiles: config.dotfiles });
    const real = await realPathInside(mount.root, resolved.joined);
    hideDotTargets(mount.root, real);
    return { segments: resolved.segments, joined: resolved.joined, real, info: await statOr404(real) };
  }

  /** An index file candidate: undefined when absent, a directory, or outside the root. */
  async function fileBelow(mount: Mount, candidate: string): Promise<{ real: string; info: Stats } | undefined> {
    try {
      const real = await realPathInside(mount.root, candidate);
      hideDotTargets(mount.root, real);
      const info = await statOr404(real);
      return info.isFile() ? { real, info } : undefined;
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** A symlink with a plain name must not reveal a hidden file it points to. */
  function hideDotTargets(root: string, real: string): void {
    if (config.dotfiles) return;
    if (path.relative(root, real).split(path.sep).some((segment) => segment.startsWith('.'))) throw notFound();
  }

  /** `/` with several mounts: their list when listing is on, else nothing. */
  async function mountPoints(request: HttpRequest): Promise<HttpResponse> {
    if (!config.list) throw notFound();
    const entries: ListingEntry[] = await Promise.all(config.mounts.map(async (mount) => ({
      name: mount.name,
      href: `${encodeURIComponent(mount.name)}/`,
      kind: 'directory' as const,
      size: undefined,
      modified: await stat(mount.root).then((info) => info.mtime, () => undefined),
    })));
    return entriesResponse(request, '/', entries);
  }
}

/**
 * The request path without an absolute-form prefix (`GET http://host/a`,
 * which servers must accept, RFC 9112 3.2.2). Anything else that does not
 * start with `/` cannot name a file.
 */
function targetPath(request: HttpRequest): string {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(request.path);
  const target = absolute === null ? request.path : request.path.slice(absolute[0].length) || '/';
  if (!target.startsWith('/')) throw new HttpError(400, 'Bad Request');
  return target;
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'The request path has an invalid %-escape');
  }
}

/** Stat of a real path already checked; a file that vanished since is just absent. */
async function statOr404(real: string): Promise<Stats> {
  try {
    return await stat(real);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw notFound();
    if (code === 'EACCES' || code === 'EPERM') throw new HttpError(403, 'Forbidden');
    throw error;
  }
}

function notFound(): HttpError {
  return new HttpError(404, 'Not Found');
}

/**
 * The SPA fallback is for a browser navigating to a client-side route: GET
 * or HEAD, `text/html` accepted by name (a script's `*\/*` is not enough),
 * and a last segment without an extension (a missing `app.js` stays 404).
 */
function wantsSpa(request: HttpRequest, rest: string): boolean {
  if (request.verb !== 'GET' && request.verb !== 'HEAD') return false;
  if (!acceptsHtml(request.headers.accept)) return false;
  let last: string;
  try {
    last = decodeURIComponent(rest).split(/[/\\]/).at(-1) ?? '';
  } catch {
    return false;
  }
  return path.extname(last) === '' && !last.startsWith('.');
}

function acceptsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((range) => {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const refused = parameters.some((parameter) => /^q=0(\.0*)?$/.test(parameter));
    return type === 'text/html' && !refused;
  });
}

/** The CORS header (by mode, as the server option does) and the configured headers. */
function extraHeaders(config: StaticOptions, request: HttpRequest): Array<[string, OutgoingHeaderValue]> {
  const extra: Array<[string, OutgoingHeaderValue]> = [...(corsHeaders(config.cors, request.headers) ?? [])];
  // With 'auto' the answer depends on whether Origin was sent: a shared cache must know.
  if (config.cors === 'auto') extra.push(['Vary', 'Origin']);
  extra.push(...config.headers);
  return extra;
}

/**
 * Adds `extra` to a response without overriding what it already says (names
 * compared without case), except `Vary`, whose tokens are merged.
 */
function withExtraHeaders(response: HttpResponse, extra: Array<[string, OutgoingHeaderValue]>): HttpResponse {
  if (extra.length === 0) return response;
  const headers: OutgoingHeaders = { ...response.headers };
  const names = new Map(Object.keys(headers).map((name) => [name.toLowerCase(), name]));
  for (const [name, value] of extra) {
    const existing = names.get(name.toLowerCase());
    if (existing === undefined) {
      headers[name] = value;
      names.set(name.toLowerCase(), name);
    } else if (name.toLowerCase() === 'vary') {
      const tokens = `${String(headers[existing])}, ${String(value)}`.split(',').map((token) => token.trim()).filter(Boolean);
      headers[existing] = [...new Map(tokens.map((token) => [token.toLowerCase(), token])).values()].join(', ');
    }
  }
  return { ...response, headers };
}
