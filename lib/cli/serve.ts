/**
 * `httpserver serve [DIR...]`: serves directories (with listings, uploads,
 * CORS and single-page apps as asked) until Ctrl-C.
 */
import { statSync } from 'node:fs';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { serveDirectory } from '../static/serve-directory.js';
import type { ServeDirectoryOptions } from '../static/static-options.js';
import type { OutgoingHeaders } from '../types.js';
import { parseArgs } from 'node:util';
import { UsageError, portOf, serveUntilSignal, usageErrorOf, type CliIo } from './shared.js';

export const SERVE_USAGE = `Usage: httpserver serve [options] [DIR...]

Serves DIR (default: the current directory) over HTTP. Several DIRs are
mounted side by side, each under its own name, and listed at /.

Options:
  -p, --port PORT          port to listen on (default $PORT or 8080; 0 picks a free one)
      --host HOST          address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
      --list               list directories that have no index.html
      --upload DIR         accept PUT and POST uploads into DIR
      --cors               answer cross-origin requests (CORS headers when the request has Origin)
      --spa                answer unknown HTML paths with /index.html (single-page apps)
      --header 'Name: value'
                           add a header to every response (repeatable)
      --tls-cert FILE      serve HTTPS with this PEM certificate (needs --tls-key)
      --tls-key FILE       the certificate's PEM private key
  -h, --help               show this help

One line per request is printed. Ctrl-C stops the server.
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
  const headers = parseHeaders(values.header ?? []);
  const tls = parseTls(values['tls-cert'], values['tls-key']);

  const options: ServeDirectoryOptions = {
    // One directory is served at /; several become mount points (see serveDirectory).
    root: dirs.length === 1 ? dirs[0]! : dirs,
    list: values.list ?? false,
    cors: values.cors ? 'auto' : 'off',
    spa: values.spa ?? false,
    headers,
  };
  if (values.upload !== undefined) options.upload = { dir: expectDirectory(values.upload, '--upload') };

  let callback;
  try {
    callback = serveDirectory(options);
  } catch (error) {
    // What serveDirectory still refuses (two directories with the same name, ...) is the command line's fault.
    throw new UsageError((error as Error).message);
  }

  // No callback deadline: a large upload or a slow download of a big file may rightly take minutes
  // (the body and send deadlines still cut clients that stall).
  return serveUntilSignal(io, {
    name: 'serve', host, port, callback, what: dirs.join(', '),
    options: { log: true, callbackTimeout: 0, ...(tls ? { tls } : {}) },
  });
}

const SERVE_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  upload: { type: 'string' },
  list: { type: 'boolean' },
  cors: { type: 'boolean' },
  spa: { type: 'boolean' },
  header: { type: 'string', multiple: true },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options: SERVE_OPTIONS });
  } catch (error) {
    throw usageErrorOf(error, SERVE_OPTIONS);
  }
}

/** The path of an existing directory, or a usage error naming the argument. */
function expectDirectory(dir: string, what: string): string {
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`${what} '${dir}' does not exist`);
  }
  if (!isDirectory) throw new UsageError(`${what} '${dir}' is not a directory`);
  return dir;
}

/** `--header 'Name: value'`, repeatable; the same name twice sends both values. */
function parseHeaders(specs: string[]): OutgoingHeaders {
  const headers: Record<string, string[]> = {};
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header must look like 'Name: value', got '${spec}'`);
    const name = spec.slice(0, colon).trim();
    const value = spec.slice(colon + 1).trim();
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch (error) {
      throw new UsageError(`--header '${spec}': ${(error as Error).message}`);
    }
    // Grouped case-insensitively, keeping the first spelling, as HTTP treats names.
    const key = Object.keys(headers).find((existing) => existing.toLowerCase() === name.toLowerCase()) ?? name;
    (headers[key] ??= []).push(value);
  }
  return Object.fromEntries(Object.entries(headers).map(([name, values]) => [name, values.length === 1 ? values[0]! : values]));
}

function parseTls(cert: string | undefined, key: string | undefined): { cert: string; key: string } | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) throw new UsageError('--tls-cert and --tls-key go together');
  for (const [flag, file] of [['--tls-cert', cert], ['--tls-key', key]] as const) {
    try {
      if (!statSync(file).isFile()) throw new Error();
    } catch {
      throw new UsageError(`${flag} '${file}' is not a readable file`);
    }
  }
  // registerCallback reads them (a string that is not PEM text is a path) and reports bad PEM.
  return { cert, key };
}

