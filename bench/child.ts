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

/**
 * Makes sure a benchmark leaves nothing behind: on Ctrl-C, or when it runs
 * past `budgetMs`, `stop` kills what it started and the process exits.
 * Returns the function that disarms the deadline once the work is done.
 */
export function guardBenchmark(stop: () => void, budgetMs: number, overrun: string): () => void {
  process.once('SIGINT', () => {
    console.error('\nInterrupted: stopping wrk and the servers.');
    stop();
    process.exit(130);
  });
  // Whatever happens, nothing outlives the benchmark by more than this.
  const deadline = setTimeout(() => {
    console.error(overrun);
    stop();
    process.exit(1);
  }, budgetMs);
  deadline.unref();
  return () => clearTimeout(deadline);
}

/** Collects garbage a few times (weak references and finalizers need more than one pass), then reads memory (needs --expose-gc). */
export async function memoryAfterGc(): Promise<{ heapUsed: number; rss: number; openSockets: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('this server needs --expose-gc');
  for (let pass = 0; pass < 4; pass += 1) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const memory = process.memoryUsage();
  return {
    heapUsed: memory.heapUsed,
    rss: memory.rss,
    openSockets: process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length,
  };
}
