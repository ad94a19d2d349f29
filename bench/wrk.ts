/**
 * Runs wrk (Debian's package; scripts/install-bench-tools.sh installs it)
 * with bench/wrk.lua and returns the figures that script prints as JSON.
 * wrk is a C client on its own thread: it leaves more of the machine to the
 * server under test than a Node client would, and costs the same for every
 * server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** bench/wrk.lua in the source tree: tsc copies no Lua into dist/bench. */
const SCRIPT = path.resolve(__dirname, '..', '..', 'bench', 'wrk.lua');

export interface WrkOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  bodySize: number;
  connections: number;
  /** Seconds. wrk stops earlier when stop() is called. */
  duration: number;
}

/** What bench/wrk.lua prints at the end of a run. */
export interface WrkResult {
  durationUs: number;
  requests: number;
  bytes: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  /** Responses with a status outside 200–399. */
  statusErrors: number;
  timeouts: number;
  p50Us: number;
  p99Us: number;
}

export interface WrkRun {
  result: Promise<WrkResult>;
  /** Ends the run now (SIGINT: wrk still reports what it counted). */
  stop(): void;
}

/** Every wrk still running, so that an interrupted benchmark can stop them. */
const running = new Set<ChildProcess>();

export function stopAllWrk(): void {
  for (const child of running) child.kill('SIGKILL');
}

export function startWrk(options: WrkOptions): WrkRun {
  const args = [
    '-t', '1', '-c', String(options.connections), '-d', `${options.duration}s`, '--latency',
    ...Object.entries(options.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    '-s', SCRIPT, options.url, '--', options.method, String(options.bodySize),
  ];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  // wrk ends on its own after `duration`; this only catches a wrk that hangs.
  const timer = setTimeout(() => child.kill('SIGKILL'), (options.duration + 15) * 1000);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });

  const result = new Promise<WrkResult>((resolve, reject) => {
    child.once('error', (error: Error & { code?: string }) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error.code === 'ENOENT'
        ? new Error('wrk is not installed: run `bash scripts/install-bench-tools.sh` (make bench does)')
        : error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const line = stdout.split('\n').find((text) => text.startsWith('WRK_JSON '));
      if (line === undefined) {
        reject(new Error(`wrk ${args.join(' ')} ended (${code ?? signal}) without its report:\n${stdout}${stderr}`));
        return;
      }
      resolve(JSON.parse(line.slice('WRK_JSON '.length)) as WrkResult);
    });
  });
  return { result, stop: () => child.kill('SIGINT') };
}

export function runWrk(options: WrkOptions): Promise<WrkResult> {
  return startWrk(options).result;
}

/** Socket errors and non-2xx/3xx answers of a run. */
export function wrkErrors(result: WrkResult): number {
  return result.connectErrors + result.readErrors + result.writeErrors + result.statusErrors + result.timeouts;
}

/** wrk has no --version; `wrk -v` prints its usage with the version on the first line. */
export function wrkVersion(): string {
  const probe = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (probe.error !== undefined) return 'wrk not found';
  const first = `${probe.stdout}${probe.stderr}`.split('\n')[0] ?? '';
  return first.replace(/\s*Copyright.*$/, '').trim();
}
