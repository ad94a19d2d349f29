import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the server knows about one TCP connection: its requests, its TLS
 * socket when it has one, whose turn it is among pipelined requests, and
 * the progress figures the deadline checks compare from one look to the next.
 */
export class ConnectionState {
  /** Requests parsed and not over yet (waiting their turn, in the callback, or being written); 0 is idle. */
  inFlight = 0;
  /** Requests parsed on this connection so far. */
  requests = 0;
  /** The request Node parsed last and its response: only it can still be receiving a body. */
  lastMessage: IncomingMessage | undefined;
  lastResponse: ServerResponse | undefined;
  /** For HTTPS: the TLS socket riding on this connection; requests arrive and responses leave there. */
  secure: Socket | undefined;
  /** `'drain'` events of the HTTP socket so far: a drain between two looks is progress. */
  drains = 0;
  /** Deadline bookkeeping, owned by `deadlines.ts`. */
  readonly body: { message: IncomingMessage | undefined; startBytes: number; waited: number } =
    { message: undefined, startBytes: 0, waited: 0 };
  readonly send = { pending: 0, drains: 0, waited: 0 };

  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private pausedReading = false;
  private watchingResumes = false;

  constructor(readonly socket: Socket, readonly peer: string, private readonly maxRunning: number) {}

  /** The socket HTTP is spoken on: the TLS socket for HTTPS, else the connection itself. */
  get http(): Socket {
    return this.secure ?? this.socket;
  }

  /**
   * Pipelining without a flood: at most `maxRunning` requests of this
   * connection are handed to the callback at once. Later ones wait their
   * turn, and the connection is not read while any waits, so a client
   * cannot queue requests without bound. Responses stay in request order
   * (Node queues them). Returns what to call when the exchange is over,
   * whether it ran or was still waiting.
   */
  takeTurn(start: () => void): () => void {
    // The usual case, a turn free and no one waiting: no bookkeeping of stages, one shared way out.
    if (this.running < this.maxRunning && this.waiting.length === 0) {
      this.running += 1;
      start();
      return this.endRunningTurn;
    }
    let stage: 'waiting' | 'running' | 'over' = 'waiting';
    const run = () => {
      stage = 'running';
      this.running += 1;
      start();
    };
    if (this.running < this.maxRunning) run();
    else {
      this.waiting.push(run);
      this.pauseReading();
    }
    return () => {
      if (stage === 'running') {
        this.running -= 1;
        this.waiting.shift()?.();
      } else if (stage === 'waiting') {
        this.waiting.splice(this.waiting.indexOf(run), 1);
      }
      stage = 'over';
      if (this.waiting.length === 0) this.resumeReading();
    };
  }

  /** Ends a turn that started at once (see `takeTurn`); whenExchangeEnds calls it once per exchange. */
  private readonly endRunningTurn = () => {
    this.running -= 1;
    this.waiting.shift()?.();
    if (this.waiting.length === 0) this.resumeReading();
  };

  /** True while pipelined requests wait for a turn (the connection is deliberately not read). */
  get holdingBack(): boolean {
    return this.pausedReading;
  }

  private pauseReading(): void {
    if (this.pausedReading) return;
    this.pausedReading = true;
    const socket = this.http;
    if (!this.watchingResumes) {
      this.watchingResumes = true;
      // Node resumes the socket whenever a request is dumped or read; while requests wait their
      // turn, it is paused again before the event loop can read more (Node's own 'resume'
      // listener restarts the read, this one stops it in the same tick).
      socket.on('resume', () => { if (this.pausedReading) socket.pause(); });
    }
    socket.pause();
  }

  private resumeReading(): void {
    if (!this.pausedReading) return;
    this.pausedReading = false;
    // Node's server keeps the socket paused if it paused it itself (for its own output backpressure).
    this.http.resume();
  }
}
