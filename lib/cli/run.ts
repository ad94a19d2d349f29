/**
 * `httpserver run SCRIPT`: serves the callback a script exports, with
 * `--watch` to swap in each edited version on the same listener and
 * `--trace` to show every exchange as dictionaries (and, `=wire`, as bytes).
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ServerOptions } from '../options.js';
import { reportToStderr } from '../report.js';
import { FileWatcher } from '../run/file-watcher.js';
import { withCleanErrors, withLocation } from '../run/script-errors.js';
import { SCRIPT_EXTENSIONS, ScriptLoader, type LoadResult } from '../run/script-loader.js';
import type { Callback } from '../types.js';
import { readTlsFlags } from './flag-values.js';
import { UsageError, portOf, serveUntilSignal, usageErrorOf, type CliIo } from './shared.js';

export const RUN_USAGE = `Usage: httpserver run [options] SCRIPT

Serves the function SCRIPT exports as its default export: it gets each
request dictionary and returns the response dictionary. SCRIPT is a .js,
.mjs, .cjs, .ts or .mts file; TypeScript runs as it is, with no build step.

  export default function (request) {
    return { statuscode: 200, message: \`Hello from \${request.path}\\n\` };
  }

Options:
  -p, --port PORT     port to listen on (default $PORT or 8080; 0 picks a free one)
      --host HOST     address to listen on (default 127.0.0.1; 0.0.0.0 for every interface,
                      which also prints the addresses other machines can use)
  -w, --watch         reload the callback when SCRIPT or a file it imports changes
                      (same port, open connections kept; a broken edit keeps the last good version)
      --trace         print each request dictionary and the response dictionary
      --trace=wire    also print the raw bytes that came in and went out
      --expose-errors send the error and its stack in the body of a 500, not just
                      "Internal Server Error" (for class; never on a public server)
      --http09        answer HTTP/0.9 request lines (GET /path, no version) 0.9 style,
                      the body alone, instead of 400 (to watch the oldest HTTP in class)
      --tls-cert FILE serve HTTPS with this PEM certificate (needs --tls-key)
      --tls-key FILE  the certificate's PEM private key
  -h, --help          show this help

One line per request is printed; a callback that throws prints its error and
the line of SCRIPT it came from. Ctrl-C stops the server.
`;

const RUN_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  watch: { type: 'boolean', short: 'w' },
  trace: { type: 'string' },
  'expose-errors': { type: 'boolean' },
  http09: { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args);
  if (values.help) {
    io.out(RUN_USAGE);
    return 0;
  }
  const port = portOf(values.port);
  // Not from $HOST: some shells set it to the machine's name, which would expose the server.
  const host = values.host ?? '127.0.0.1';
  const script = expectScript(positionals);
  const tls = await readTlsFlags(values['tls-cert'], values['tls-key']);
  const trace = values.trace;
  const loader = new ScriptLoader(script);
  const shown = script;

  const first = await loader.load();
  if (!first.ok && !values.watch) {
    io.err(describeFailure(shown, first));
    return 1;
  }
  // Each request is handed to the callback of the moment: a reload swaps it under the same listener.
  let current: Callback = first.ok ? first.callback : notLoaded;
  if (!first.ok) io.err(`${describeFailure(shown, first)}Waiting for a change to ${shown}...\n`);

  const options: ServerOptions = {
    log: (line) => io.out(`${line}\n`),
    // The server's own one-line report, with the line of the script that threw.
    onError: (error, request) => reportToStderr(withLocation(error), request),
    exposeErrors: values['expose-errors'] ?? false,
    http09: values.http09 ?? false,
    ...(tls ? { tls } : {}),
    ...(trace === undefined ? {} : {
      trace: {
        wire: trace === 'wire',
        output: (text: string) => io.out(text),
        color: process.stdout.isTTY === true && process.stdout.hasColors(),
      },
    }),
  };

  let watcher: FileWatcher | undefined;
  if (values.watch) {
    let reloading: Promise<void> | undefined;
    let again = false;
    const reload = async (changed: string[]) => {
      const result = await loader.load();
      if (result.ok) {
        current = result.callback;
        io.out(`Reloaded ${shown} (${changed.map((file) => path.basename(file)).join(', ')} changed)\n`);
        watcher!.watch(result.files);
      } else {
        io.err(`${describeFailure(shown, result)}Still serving the last version that loaded.\n`);
        // Watch what the broken version loaded too, to notice the fix wherever it is made.
        watcher!.watch(new Set([...lastFiles, ...result.files]));
      }
      if (result.ok) lastFiles = result.files;
    };
    let lastFiles = first.files;
    let pending: string[] = [];
    watcher = new FileWatcher((changed) => {
      pending.push(...changed);
      // One reload at a time; changes made during one lead to one more.
      if (reloading !== undefined) {
        again = true;
        return;
      }
      reloading = (async () => {
        do {
          again = false;
          const files = [...new Set(pending)];
          pending = [];
          await reload(files);
        } while (again);
        reloading = undefined;
      })();
    });
    watcher.watch(first.files);
  }

  try {
    return await serveUntilSignal(io, {
      name: 'run', host, port, options, what: shown,
      then: watcher === undefined ? '' : `Watching ${watchedFiles(watcher.size)} for changes.\n`,
      callback: withCleanErrors((request) => current(request)),
    });
  } finally {
    watcher?.close();
  }
}

function watchedFiles(count: number): string {
  return count === 1 ? 'the script' : `the script and ${count - 1} file${count === 2 ? '' : 's'} it imports`;
}

/** Answers while no version of the script has loaded yet (`--watch` waits for a fix). */
function notLoaded(): never {
  throw Object.assign(new Error('The script has not loaded yet: the terminal running httpserver says why.'), {
    status: 503, expose: true,
  });
}

function parse(args: string[]) {
  // `--trace` alone and `--trace=wire` are both allowed: parseArgs has no optional values, so the bare one is spelled out.
  const spelled = args.map((arg) => (arg === '--trace' ? '--trace=dictionaries' : arg));
  let parsed;
  try {
    parsed = parseArgs({ args: spelled, allowPositionals: true, strict: true, options: RUN_OPTIONS });
  } catch (error) {
    throw usageErrorOf(error, RUN_OPTIONS);
  }
  const trace = parsed.values.trace;
  if (trace !== undefined && trace !== 'dictionaries' && trace !== 'wire') {
    throw new UsageError(`--trace takes no value, or '=wire' for the raw bytes too; got '--trace=${trace}'`);
  }
  return parsed;
}

/** The one SCRIPT argument, checked: it exists, is a file, and has an extension Node (or esbuild) can run. */
function expectScript(positionals: string[]): string {
  if (positionals.length === 0) throw new UsageError('missing SCRIPT: the file whose default export is the callback');
  if (positionals.length > 1) {
    throw new UsageError(`one SCRIPT at a time, got ${positionals.length}: ${positionals.join(' ')}`);
  }
  const script = positionals[0]!;
  let isFile = false;
  try {
    isFile = statSync(script).isFile();
  } catch {
    throw new UsageError(`SCRIPT '${script}' does not exist`);
  }
  if (!isFile) throw new UsageError(`SCRIPT '${script}' is not a file`);
  if (!SCRIPT_EXTENSIONS.includes(path.extname(script))) {
    throw new UsageError(`SCRIPT '${script}' must end in ${SCRIPT_EXTENSIONS.join(', ')}`);
  }
  return script;
}

function describeFailure(shown: string, result: Extract<LoadResult, { ok: false }>): string {
  const { error } = result;
  // A ScriptError (nothing to serve) is explained in its message; anything else is the script's own error, stack and all.
  const text = error.name === 'ScriptError' ? error.message : (error.stack ?? String(error));
  return `httpserver run: ${shown} did not load:\n${text.trimEnd()}\n`;
}
