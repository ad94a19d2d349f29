/**
 * The `httpserver` command. `httpserver serve [DIR...]` serves directories;
 * more subcommands are added to COMMANDS.
 *
 * Exit codes: 0 after a clean stop (SIGINT, SIGTERM) or `--help`; 1 when
 * the server cannot start or stop (a taken port, a bad certificate); 2 for
 * a usage error (an unknown flag, a bad value, a missing directory).
 */
import { readFileSync, statSync } from 'node:fs';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { didYouMean } from './arguments.js';
import { getAddress, registerCallback, stopCallback } from './registry.js';
import { serveDirectory } from './static/serve-directory.js';
import type { ServeDirectoryOptions } from './static/static-options.js';
import type { OutgoingHeaders } from './types.js';

/** Where the command writes; a test or an embedding program may pass its own. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: CliIo = {
  out: (text) => { process.stdout.write(text); },
  err: (text) => { process.stderr.write(text); },
};

/** A mistake in the command line: reported with a pointer to --help, exit 2. */
class UsageError extends Error {}

interface Command {
  summary: string;
  usage: string;
  /** Resolves to the exit code once the command is over (for `serve`: once the server has stopped). */
  run(args: string[], io: CliIo): Promise<number>;
}

const SERVE_USAGE = `Usage: httpserver serve [options] [DIR...]

Serves DIR (default: the current directory) over HTTP. Several DIRs are
mounted side by side, each under its own name, and listed at /.

Options:
  -p, --port PORT          port to listen on (default 8080; 0 picks a free one)
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

const COMMANDS: Record<string, Command> = {
  serve: { summary: 'serve directories over HTTP', usage: SERVE_USAGE, run: serve },
};

function mainUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return `Usage: httpserver <command> [options]\n\nCommands:\n${lines.join('\n')}\n\n` +
    `Run 'httpserver <command> --help' for a command's options.\n`;
}

/** Runs the command line `argv` (without node and the script). Resolves to the exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(mainUsage());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(mainUsage());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${packageVersion()}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.err(`httpserver: unknown command '${name}'\n\n${mainUsage()}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`httpserver ${name}: ${error.message}\nRun 'httpserver ${name} --help' for usage.\n`);
      return 2;
    }
    io.err(`httpserver ${name}: ${(error as Error)?.message ?? String(error)}\n`);
    return 1;
  }
}

async function serve(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args);
  if (values.help) {
    io.out(SERVE_USAGE);
    return 0;
  }

  const port = parsePort(values.port ?? '8080');
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
  const id = await registerCallback([host, port], callback, { log: true, callbackTimeout: 0, ...(tls ? { tls } : {}) });

  // Resolves with the exit code once a signal has stopped the server. The handlers are in
  // place before the URL is printed: whoever reads it may signal at once.
  const stopped = new Promise<number>((resolve) => {
    const stop = () => {
      // Removed first, so that a second Ctrl-C ends the process at once (default action).
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      stopCallback(id).then(
        () => resolve(0),
        (error: unknown) => {
          io.err(`httpserver serve: cannot stop: ${(error as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

  const address = getAddress(id);
  const shownHost = address.host.includes(':') ? `[${address.host}]` : address.host;
  io.out(`Serving ${dirs.join(', ')} at ${tls ? 'https' : 'http'}://${shownHost}:${address.port}/\n`);
  return stopped;
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
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      // parseArgs goes on about positionals after '--'; a likely typo is the more useful hint.
      const flag = /'(-[^']*)'/.exec(message)?.[1] ?? '';
      const hint = flag.startsWith('--') ? didYouMean(flag.slice(2).split('=')[0]!, Object.keys(SERVE_OPTIONS)) : undefined;
      throw new UsageError(`unknown option '${flag}'${hint ? `. Did you mean '--${hint}'?` : ''}`);
    }
    // The other messages name the flag and the problem ("Option '--port <value>' argument missing").
    throw new UsageError(message);
  }
}

function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`--port must be an integer from 0 to 65535, got '${text}'`);
  return port;
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

function packageVersion(): string {
  // This runs as dist/lib/cli.js, two levels below package.json.
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
