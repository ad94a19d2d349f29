/** What the benchmarks share: their server children, and the arithmetic of their figures. */
import { fork, type ChildProcess } from 'node:child_process';

/** Closes the IPC channel of a benchmark's server child (it exits on its own), SIGKILL after 2 s. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.disconnect(); else child.kill('SIGTERM');
  });
}

/**
 * Forks `script` with `args` (a benchmark file started again as one of its
 * servers; `execArgv` for node itself, e.g. --expose-gc) and waits, at most
 * 10 s, for the `{ port }` it sends once listening.
 */
export function forkServer(
  script: string, args: string[], label: string, execArgv: string[] = process.execArgv,
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(script, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${label} did not start within 10 s`)), 10_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('message', (message: { port: number }) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({ child, port: message.port });
    });
    const onExit = (code: number | null) => fail(new Error(`${label} exited with ${code} before listening`));
    child.once('exit', onExit);
  });
}

export function medianOf(numbers: number[]): number {
  const sorted = [...numbers].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A command-line flag's value as a positive integer, or a clear error. */
export function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}
