/**
 * `httpserver serve [DIR...]`: serves directories (with listings, uploads,
 * CORS and single-page apps as asked) until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { serveDirectory } from '../static/serve-directory.js';
import type { ServeDirectoryOptions } from '../static/static-options.js';
import { expectDirectory, parseHeaders, parseSeconds, parseSize, readTlsFlags } from './flag-values.js';
import { UsageError, portOf, serveUntilSignal, usageErrorOf, type CliIo } from './shared.js';
import { planUploads } from './upload-plan.js';

export const SERVE_USAGE = `Usage: httpserver serve [options] [DIR...]

Serves DIR (default: the current directory) over HTTP. Several DIRs are
mounted side by side, each under its own name, and listed at /.

Options:
  -p, --port PORT          port to listen on (default $PORT or 8080; 0 picks a free one)
      --host HOST          address to listen on (default 127.0.0.1; 0.0.0.0 for every interface,
                           which also prints the addresses other machines can use)
      --list               list directories that have no index.html
      --writable           accept PUT and POST uploads into the served directory itself,
                           so they can be read back at their URL (several DIRs: into the first)
      --upload DIR         accept PUT and POST uploads into DIR (write-only: they cannot be
                           read back unless DIR is served too, or inside a served DIR)
      --delete             also accept DELETE of uploaded files (needs --writable or --upload)
      --max-upload SIZE    largest upload: bytes, or 512K, 10M, 1G (default 64M)
      --cors               answer cross-origin requests (CORS headers when the request has Origin)
      --spa                answer unknown HTML paths with /index.html (single-page apps)
      --header 'Name: value'
                           add a header to every response (repeatable)
      --cache SECONDS      let browsers keep files SECONDS without asking again
                           (Cache-Control: public, max-age=SECONDS; default and 0: no-cache)
      --no-compress        never compress responses (default: brotli, gzip or deflate, as accepted)
      --tls-cert FILE      serve HTTPS with this PEM certificate (needs --tls-key)
      --tls-key FILE       the certificate's PEM private key
      --quiet              no line per request (the start-up lines stay)
  -h, --help               show this help

One line per request is printed (none with --quiet). Ctrl-C stops the server.
`;

export async function serve(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args);
  if (values.help) {
    io.out(SERVE_USAGE);
    return 0;
  }

  const port = portOf(values.port);
  // Not from $HOST: some shells set it to the machine's name, which would expose the server.
  const host = values.host ?? '127.0.0.1';
  const dirs = positionals.length === 0 ? ['.'] : positionals;
  for (const dir of dirs) expectDirectory(dir, 'DIR');
  const uploads = planUploads(dirs, values.writable ?? false, values.upload);
  for (const flag of ['delete', 'max-upload'] as const) {
    if (values[flag] !== undefined && uploads === undefined) throw new UsageError(`--${flag} needs --writable or --upload DIR`);
  }
  const cache = values.cache === undefined ? 0 : parseSeconds('--cache', values.cache);

  const options: ServeDirectoryOptions = {
    // One directory is served at /; several become mount points (see serveDirectory).
    root: dirs.length === 1 ? dirs[0]! : dirs,
    list: values.list ?? false,
    cors: values.cors ? 'auto' : 'off',
    spa: values.spa ?? false,
    headers: parseHeaders(values.header ?? []),
    // max-age=0 would say "stale at once", which is what no-cache says more plainly.
    cacheControl: cache === 0 ? 'no-cache' : `public, max-age=${cache}`,
    compress: !values['no-compress'],
  };
  if (uploads !== undefined) {
    options.upload = {
      dir: uploads.dir,
      delete: values.delete ?? false,
      ...(values['max-upload'] === undefined ? {} : { maxSize: parseSize('--max-upload', values['max-upload']) }),
    };
  }
  const tls = await readTlsFlags(values['tls-cert'], values['tls-key']);

  let callback;
  try {
    callback = serveDirectory(options);
  } catch (error) {
    // What serveDirectory still refuses (two directories with the same name, ...) is the command line's fault.
    throw new UsageError((error as Error).message);
  }
  if (uploads?.warning !== undefined) io.err(uploads.warning);

  // No callback deadline: a large upload or a slow download of a big file may rightly take minutes
  // (the body and send deadlines still cut clients that stall).
  return serveUntilSignal(io, {
    name: 'serve', host, port, callback, what: dirs.join(', '), then: uploads?.notice,
    options: { log: !values.quiet, callbackTimeout: 0, ...(tls ? { tls } : {}) },
  });
}

const SERVE_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  list: { type: 'boolean' },
  writable: { type: 'boolean' },
  upload: { type: 'string' },
  delete: { type: 'boolean' },
  'max-upload': { type: 'string' },
  cors: { type: 'boolean' },
  spa: { type: 'boolean' },
  header: { type: 'string', multiple: true },
  cache: { type: 'string' },
  'no-compress': { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options: SERVE_OPTIONS });
  } catch (error) {
    throw usageErrorOf(error, SERVE_OPTIONS);
  }
}
