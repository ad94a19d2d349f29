import type { ChildProcess } from 'node:child_process';

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
