/**
 * The command line as a real child process, for the CLI tests: start it,
 * wait for what it prints, signal it, and make sure it is gone afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const ROOT = join(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'lib', 'cli.js');
export const BIN = join(ROOT, 'bin', 'httpserver.js');

export interface Running {
  child: ChildProcess;
  /** Everything the command printed so far. */
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first match of `pattern` in stdout; rejects after `timeoutMs` or when the process exits first. */
  waitForStdout: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  /** The same for stderr. */
  waitForStderr: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
}

/** Starts `node <script> ...args` and makes sure it is gone when the test ends. */
export function run(t: TestContext, args: string[], script = CLI, cwd?: string, env?: Record<string, string>): Running {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}), env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  const wake = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; for (const check of [...wake]) check(); });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; for (const check of [...wake]) check(); });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => { resolve(code ?? signal ?? 'unknown'); for (const check of [...wake]) check(); });
  });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  const waitFor = (stream: () => string, name: string) => (pattern: RegExp, timeoutMs = 10_000) => new Promise<RegExpMatchArray>((resolve, reject) => {
    const check = () => {
      const match = stream().match(pattern);
      if (match) { done(); resolve(match); return; }
      if (child.exitCode !== null || child.signalCode !== null) {
        done();
        reject(new Error(`exited (${child.exitCode ?? child.signalCode}) before printing ${pattern} on ${name}; stdout: ${out}; stderr: ${err}`));
      }
    };
    const timer = setTimeout(() => { done(); reject(new Error(`no ${pattern} on ${name} within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`)); }, timeoutMs);
    const done = () => { clearTimeout(timer); wake.delete(check); };
    wake.add(check);
    check();
  });
  return {
    child, stdout: () => out, stderr: () => err, exited,
    waitForStdout: waitFor(() => out, 'stdout'), waitForStderr: waitFor(() => err, 'stderr'),
  };
}

/** Resolves with the exit code, or rejects when the process is still running after `timeoutMs`. */
export async function exitWithin(running: Running, timeoutMs = 10_000): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms; stderr: ${running.stderr()}`)), timeoutMs);
  });
  try {
    return await Promise.race([running.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

