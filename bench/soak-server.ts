/**
 * The server side of the soak test (bench/soak.ts forks it with
 * --expose-gc): seattle-httpserver with default options on 127.0.0.1,
 * answering over IPC how much heap it holds after a full garbage
 * collection, how many connections it still has, and what reached onError.
 *
 *   /        a small answer
 *   /throw   the callback throws: a 500, reported to onError
 */
import { getAddress, registerCallback } from '../lib/index.js';
import { memoryAfterGc } from './child.js';

export const HELLO = 'hello world\n';
export const THROW_PATH = '/throw';
/** The deliberate failure's message: any other report is unexpected. */
const DELIBERATE = 'soak: deliberate failure';

/** What the parent asks: a measurement after garbage collection. */
export interface MeasureRequest {
  type: 'measure';
}

/** What the child tells: its port once listening, then measurements. */
export type ServerMessage =
  | { type: 'listening'; port: number }
  | {
    type: 'measure';
    heapUsed: number;
    rss: number;
    /** TCP connections the process still holds (the listening socket not counted). */
    openSockets: number;
    /** onError reports of the deliberate failure, and of anything else (with the first few). */
    deliberateReports: number;
    otherReports: number;
    otherSamples: string[];
  };

const reports = { deliberate: 0, other: 0, otherSamples: [] as string[] };

function onError(error: Error): void {
  if (error.message === DELIBERATE) {
    reports.deliberate += 1;
    return;
  }
  reports.other += 1;
  if (reports.otherSamples.length < 5) reports.otherSamples.push(`${error.name}: ${error.message}`);
}

/** Memory after a full GC, with what this server counted. */
async function measure(): Promise<ServerMessage> {
  return {
    ...(await memoryAfterGc()),
    type: 'measure',
    deliberateReports: reports.deliberate,
    otherReports: reports.other,
    otherSamples: [...reports.otherSamples],
  };
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('soak-server is started by bench/soak.js, over IPC');
  const id = await registerCallback(['127.0.0.1', 0], (request) => {
    if (request.path === THROW_PATH) throw new Error(DELIBERATE);
    return { statuscode: 200, headers: { 'Content-Type': 'text/plain' }, message: HELLO };
  }, { onError });
  // The IPC channel closes when the parent goes, however it goes: so do we.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: MeasureRequest) => {
    if (message.type === 'measure') measure().then((answer) => process.send!(answer));
  });
  process.send({ type: 'listening', port: getAddress(id).port } satisfies ServerMessage);
}

// Only when run as the child: bench/soak.ts imports the constants above.
if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
