/**
 * Browser uploads: a `multipart/form-data` POST to a directory URL (the
 * listing's upload form) stores each file part in that directory. The body
 * is parsed by busboy, the parser multer and fastify use; every file goes
 * through the same steps as a PUT (name rules, a hidden O_EXCL temp file,
 * fsync, rename), and none is put in place before the whole form has been
 * read and found good, so a bad part leaves nothing behind.
 */
import { once } from 'node:events';
import type { Stats } from 'node:fs';
import { rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import Negotiator from 'negotiator';
import { HttpError } from '../errors.js';
import type { HttpRequest, HttpResponse } from '../types.js';
import { realPathInside, resolveRequestPath } from './safe-path.js';
import {
  checkStoredName, createTemp, fsCall, lstatIfAny, refuseNonFile, syncDirectory, timedOut, writeAt,
} from './upload-files.js';
import { servedUrlOf } from './upload-location.js';
import type { UploadOptions } from './upload.js';

/** Most file parts in one form; more is 413. A browser sends one part per chosen file. */
export const MAX_FORM_FILES = 100;
/** Most non-file fields, each at most FIELD_SIZE bytes: the form needs none, a few are tolerated. */
const MAX_FORM_FIELDS = 20;
const FIELD_SIZE = 64 * 1024;
/** The multipart framing (boundaries, part headers) allowed on top of `maxSize` of file bytes. */
const FRAMING_ALLOWANCE = 1024 * 1024;

/** One file part, written to its temp file and waiting for the whole form to succeed. */
interface Staged {
  name: string;
  temp: string;
  file: string;
  size: number;
  handle: FileHandle | undefined;
}

/** Whether a POST is a browser form upload: `multipart/form-data` to a URL ending in `/`. */
export function isFormUpload(request: HttpRequest, urlPath: string): boolean {
  return request.verb === 'POST' && urlPath.endsWith('/') &&
    /^multipart\/form-data\s*(;|$)/i.test(request.headers['content-type'] ?? '');
}

/**
 * Stores the file parts of a `multipart/form-data` POST in the directory
 * `urlPath` names below `options.dir` (which must exist: none is made).
 *
 * Each part's filename follows the PUT name rules (`checkStoredName`): the
 * name the browser sent, never its basename or a renamed copy, so
 * `../x` or `a/b` is refused (400), not stored as `x` or `b`. An existing
 * file of that name is replaced, as PUT does; two parts with one name are
 * 400. An empty part without a name (a file input left empty) is skipped.
 *
 * Limits: `maxSize` per file and for all files together (413), a declared
 * body larger than that plus 1 MiB of framing is refused before it is read;
 * at most MAX_FORM_FILES files and 20 small fields (413 past them).
 *
 * Answer: a browser (Accept ranks text/html first) is sent back to the
 * directory's listing with 303 See Other when that directory is served;
 * anything else gets 201 with JSON `{ files: [{ name, size, href }] }`
 * (`href` null when the file is not served).
 */
export async function multipartUpload(request: HttpRequest, urlPath: string, options: UploadOptions): Promise<HttpResponse> {
  const { segments } = resolveRequestPath(options.dir, urlPath, { dotfiles: options.dotfiles });
  const dir = await realPathInside(options.dir, path.join(options.dir, ...segments));
  if (!(await fsCall(() => stat(dir))).isDirectory()) throw new HttpError(404, 'Not Found');
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > options.maxSize + FRAMING_ALLOWANCE) {
    throw new HttpError(413, `The form is larger than the limit of ${options.maxSize} bytes`);
  }

  const staged: Staged[] = [];
  let committed = false;
  try {
    await parseForm(request, dir, options, staged);
    if (staged.length === 0) throw new HttpError(400, 'The form has no file');
    if (timedOut(request)) throw new HttpError(503, 'The upload took longer than callbackTimeout');
    for (const part of staged) {
      // Checked again: the name may have become a directory or a symlink while the form was read.
      const existing = await lstatIfAny(part.file);
      if (existing) refuseNonFile(existing);
    }
    // Each rename is atomic, the group is not: should one fail (a name turned into a directory in the
    // instant since the check above), the files renamed before it stay, each complete.
    for (const part of staged) await fsCall(() => rename(part.temp, part.file));
    committed = true;
  } finally {
    if (!committed) {
      await Promise.all(staged.map(async (part) => {
        await part.handle?.close().catch(() => {});
        await unlink(part.temp).catch(() => {});
      }));
    }
  }
  await syncDirectory(dir);
  return answer(request, dir, staged, options);
}

/** Feeds the body to busboy, one chunk at a time with its backpressure, and stages every file part. */
async function parseForm(request: HttpRequest, dir: string, options: UploadOptions, staged: Staged[]): Promise<void> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': request.headers['content-type'] },
      // The name exactly as sent: busboy's default basename would store `../../x` as `x` without a word.
      preservePath: true,
      // Browsers send the filename as raw UTF-8; busboy's default reads it as latin1.
      defParamCharset: 'utf8',
      limits: {
        // One byte over: busboy flags a file that reaches the limit exactly as truncated.
        fileSize: options.maxSize + 1, files: MAX_FORM_FILES, fields: MAX_FORM_FIELDS, parts: MAX_FORM_FILES + MAX_FORM_FIELDS,
        fieldSize: FIELD_SIZE, headerPairs: 20,
      },
    });
  } catch {
    throw new HttpError(400, 'The multipart/form-data body has no valid boundary');
  }

  let failure: unknown;
  // A part that fails stops the whole form at once: busboy would otherwise wait for that part's
  // stream (destroyed by its reader) to end, and never close.
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => { stop = resolve; });
  const fail = (error: unknown) => { failure ??= error; stop(); };
  const tooMany = () => fail(new HttpError(413, `A form may carry at most ${MAX_FORM_FILES} files and ${MAX_FORM_FIELDS} fields`));
  const pending: Promise<void>[] = [];
  const active = new Set<Readable>();
  const names = new Set<string>();
  const total = { bytes: 0 };
  const malformed = () => new HttpError(400, 'The multipart/form-data body is malformed');
  parser.on('file', (_field, stream, info) => {
    active.add(stream);
    // busboy fails the part's stream first when the body breaks off: that is the client's fault (400), and
    // this listener runs before the read loop's rejection could report it as the server's.
    stream.once('error', () => fail(malformed()));
    pending.push(stageFile(stream, info.filename, dir, options, staged, names, total)
      .catch(fail)
      .finally(() => { active.delete(stream); stream.resume(); }));
  });
  parser.on('filesLimit', tooMany);
  parser.on('fieldsLimit', tooMany);
  parser.on('partsLimit', tooMany);
  parser.on('error', () => fail(malformed()));
  const closed = once(parser, 'close').catch(() => {});

  try {
    let received = 0;
    for await (const chunk of request.datastream) {
      received += chunk.length;
      if (received > options.maxSize + FRAMING_ALLOWANCE) fail(new HttpError(413, `The form is larger than the limit of ${options.maxSize} bytes`));
      if (failure !== undefined) break;
      if (!parser.write(chunk)) await Promise.race([once(parser, 'drain'), closed, stopped]);
    }
    if (failure === undefined) {
      parser.end();
      await Promise.race([closed, stopped]);
    }
  } catch (error) {
    // The client left mid-body (or the body failed): nothing of the form is kept.
    fail(error);
  }
  if (failure !== undefined) {
    for (const stream of active) stream.destroy();
    parser.destroy();
  }
  await Promise.all(pending);
  if (failure !== undefined) throw failure;
}

/** One file part into its temp file; the file is put in place by `commit`, once the whole form is good. */
async function stageFile(
  stream: Readable & { truncated?: boolean }, filename: string | undefined, dir: string, options: UploadOptions,
  staged: Staged[], names: Set<string>, total: { bytes: number },
): Promise<void> {
  let limited = false;
  stream.once('limit', () => { limited = true; });
  if (filename === undefined || filename === '') {
    // A file input left empty is sent as a part with an empty name and no bytes.
    for await (const chunk of stream) {
      if ((chunk as Buffer).length > 0) throw new HttpError(400, 'A file part has no file name');
    }
    return;
  }
  checkStoredName(filename, options.dotfiles);
  if (names.has(filename)) throw new HttpError(400, 'Two files in the form have the same name');
  names.add(filename);
  const file = path.join(dir, filename);
  const existing = await lstatIfAny(file);
  if (existing) refuseNonFile(existing);
  const { temp, handle } = await createTemp(dir, filename);
  const part: Staged = { name: filename, temp, file, size: 0, handle };
  staged.push(part);
  for await (const chunk of stream) {
    const bytes = chunk as Buffer;
    total.bytes += bytes.length;
    if (limited || total.bytes > options.maxSize) throw new HttpError(413, `The files are larger than the limit of ${options.maxSize} bytes`);
    await writeAt(handle, bytes, part.size);
    part.size += bytes.length;
  }
  if (limited || stream.truncated) throw new HttpError(413, `A file is larger than the limit of ${options.maxSize} bytes`);
  await keepMode(handle, existing);
  await fsCall(() => handle.sync());
  part.handle = undefined;
  await fsCall(() => handle.close());
}

/** An overwrite keeps the permissions the operator gave the file. */
async function keepMode(handle: FileHandle, existing: Stats | undefined): Promise<void> {
  if (existing) await fsCall(() => handle.chmod(existing.mode & 0o777));
}

function answer(request: HttpRequest, dir: string, staged: Staged[], options: UploadOptions): HttpResponse {
  const listing = options.served === undefined ? undefined : servedUrlOf(options.served, dir, 'directory');
  if (listing !== undefined && prefersHtml(request)) {
    // 303: the browser follows with a GET of the listing, where the new files now appear.
    return { statuscode: 303, headers: { Location: listing }, message: '' };
  }
  const files = staged.map((part) => ({
    name: part.name,
    size: part.size,
    href: options.served === undefined ? null : servedUrlOf(options.served, part.file, 'file') ?? null,
  }));
  return {
    statuscode: 201,
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    message: `${JSON.stringify({ files })}\n`,
  };
}

/** True when Accept names text/html and ranks it above JSON, as a browser's form submission does. */
function prefersHtml(request: HttpRequest): boolean {
  const accept = request.headers.accept;
  if (accept === undefined || !/text\/html/i.test(accept)) return false;
  return new Negotiator({ headers: { accept } }).mediaType(['text/html', 'application/json']) === 'text/html';
}
