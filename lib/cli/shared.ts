/**
 * What every `httpserver` subcommand shares: its I/O, usage errors, flag
 * parsing with did-you-mean hints, and serving until Ctrl-C.
 */
import { didYouMean } from '../arguments.js';
import { describeNetwork, listenerUrls } from './addresses.js';
import { getAddress, registerCallback, stopCallback } from '../registry.js';
import type { ServerOptions } from '../options.js';
import type { Callback } from '../types.js';

/** Where the command writes; a test or an embedding program may pass its own. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** A mistake in the command line: reported with a pointer to --help, exit 2. */
export class UsageError extends Error {}

export interface Command {
  summary: string;
  usage: string;
  /** Resolves to the exit code once the command is over (for a server: once it has stopped). */
  run(args: string[], io: CliIo): Promise<number>;
}

/**
 * `parseArgs`'s error as a usage error a person can act on. Each command
 * calls `parseArgs` itself (its options type the result).
 */
export function usageErrorOf(error: unknown, flags: Record<string, unknown>): UsageError {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    // parseArgs goes on about positionals after '--'; a likely typo is the more useful hint.
    const flag = /'(-[^']*)'/.exec(message)?.[1] ?? '';
    const hint = flag.startsWith('--') ? didYouMean(flag.slice(2).split('=')[0]!, Object.keys(flags)) : undefined;
    return new UsageError(`unknown option '${flag}'${hint ? `. Did you mean '--${hint}'?` : ''}`);
  }
  // The other messages name the flag and the problem ("Option '--port <value>' argument missing").
  return new UsageError(message);
}

/**
 * The port to listen on: `--port`, else the `PORT` environment variable (the
 * common convention, which also lets `PORT=0 make run` pick a free port), else 8080.
 */
export function portOf(flag: string | undefined): number {
  const [text, source] = flag !== undefined ? [flag, '--port'] : process.env.PORT ? [process.env.PORT, 'PORT'] : ['8080', ''];
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`${source} must be an integer from 0 to 65535, got '${text}'`);
  return port;
}

export interface ServeUntilSignal {
  /** The command's name, for messages. */
  name: string;
  host: string;
  port: number;
  callback: Callback;
  options: ServerOptions;
  /** What is served, for the first line: "Serving WHAT at URL". */
  what: string;
  /** More to say once the URL is printed. */
  then?: string;
}

/**
 * Registers the listener, prints its URL and resolves with the exit code
 * once Ctrl-C (SIGINT) or SIGTERM has stopped it. A taken port is reported
 * with the way out, since that is the first error most people meet.
 */
export async function serveUntilSignal(io: CliIo, serving: ServeUntilSignal): Promise<number> {
  const { name, host, port } = serving;
  let id: number;
  try {
    id = await registerCallback([host, port], serving.callback, serving.options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      io.err(`httpserver ${name}: port ${port} on ${host} is already in use (is another server still running?).\n` +
        `Stop it, pick another port with --port ${port === 65535 ? 8080 : port + 1}, or use --port 0 for any free port.\n`);
      return 1;
    }
    if (code === 'EACCES' && port < 1024) {
      io.err(`httpserver ${name}: ports below 1024 need administrator rights. Use --port 8080, or --port 0 for any free port.\n`);
      return 1;
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      io.err(`httpserver ${name}: cannot listen on host '${host}': no such address on this machine. ` +
        `Use --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface).\n`);
      return 1;
    }
    throw error;
  }

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
          io.err(`httpserver ${name}: cannot stop: ${(error as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

  const address = getAddress(id);
  const { local, network } = listenerUrls(serving.options.tls ? 'https' : 'http', address.host, address.port);
  io.out(`Serving ${serving.what} at ${local}\n${network === undefined ? '' : describeNetwork(network)}${serving.then ?? ''}`);
  return stopped;
}
