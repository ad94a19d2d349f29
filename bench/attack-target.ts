/**
 * The server that scripts/slowhttptest.sh attacks: seattle-httpserver with
 * its DEFAULT options (the point is to see what a user gets out of the
 * box), on 127.0.0.1 and a free port.
 *
 *   /      a small answer (also what the availability probe asks for)
 *   /big   4 MiB, so a slow reader has something to not read
 *   POST   the body is read in full before the small answer, so a slow
 *          body really keeps the callback waiting
 *
 * It prints `port=N` once listening, and exits on SIGTERM/SIGINT or after
 * --max-seconds (default 600) so it can never outlive the attack run.
 *
 *   node dist/bench/attack-target.js [--max-seconds 600]
 */
import { parseArgs } from 'node:util';
import { getAddress, registerCallback, stopCallback, type HttpRequest } from '../lib/index.js';

/** One buffer shared by every /big answer: 200 slow readers must not cost 200 copies. */
const BIG = Buffer.alloc(4 * 1024 * 1024, 'seattle-httpserver slow-read target\n');
const SMALL = 'ok\n';

const { values } = parseArgs({ options: { 'max-seconds': { type: 'string', default: '600' } } });
const maxSeconds = Number(values['max-seconds']);
if (!Number.isInteger(maxSeconds) || maxSeconds < 1) throw new Error(`--max-seconds must be a positive integer, got ${values['max-seconds']}`);

async function answer(request: HttpRequest) {
  if (request.verb === 'POST' || request.verb === 'PUT') {
    try {
      await request.datastream.text();
    } catch {
      // A body that is too large, broken off or timed out still gets the small answer if the connection lives.
    }
    return { statuscode: 200, message: SMALL };
  }
  if (request.path === '/big') {
    return { statuscode: 200, headers: { 'Content-Type': 'application/octet-stream' }, message: BIG };
  }
  return { statuscode: 200, message: SMALL };
}

async function main(): Promise<void> {
  const id = await registerCallback(['127.0.0.1', 0], answer);
  const stop = () => {
    stopCallback(id, { timeout: 0 }).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // A safety net: whatever happens to the script that started it, this server goes away
  // (unref'd: the listener, not this timer, is what keeps the process alive).
  setTimeout(stop, maxSeconds * 1000).unref();
  process.stdout.write(`port=${getAddress(id).port}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
