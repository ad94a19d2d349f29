/**
 * The `httpserver` command: `httpserver run SCRIPT` serves a callback
 * module, `httpserver serve [DIR...]` serves directories. Each subcommand
 * lives in lib/cli/; this file only dispatches.
 *
 * Exit codes: 0 after a clean stop (SIGINT, SIGTERM) or `--help`; 1 when
 * the server cannot start or stop (a taken port, a bad certificate, a
 * script that does not load); 2 for a usage error (an unknown flag, a bad
 * value, a missing file or directory).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { didYouMean } from './arguments.js';
import { RUN_USAGE, run } from './cli/run.js';
import { SERVE_USAGE, serve } from './cli/serve.js';
import { UsageError, type CliIo, type Command } from './cli/shared.js';

export type { CliIo } from './cli/shared.js';

const processIo: CliIo = {
  out: (text) => { process.stdout.write(text); },
  err: (text) => { process.stderr.write(text); },
};

const COMMANDS: Record<string, Command> = {
  run: { summary: 'serve the callback a script exports (--watch, --trace)', usage: RUN_USAGE, run },
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
    const hint = didYouMean(name, Object.keys(COMMANDS));
    io.err(hint === undefined
      ? `httpserver: unknown command '${name}'\n\n${mainUsage()}`
      : `httpserver: unknown command '${name}'; did you mean '${hint}'?\nRun 'httpserver --help' for the commands.\n`);
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
