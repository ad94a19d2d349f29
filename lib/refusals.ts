import type { Socket } from 'node:net';
import { refuseConnection } from './connection.js';

/** Refusals of one address answered at once in each second; later ones are held (see `RefusalPacer`). */
export const REFUSAL_BURST = 8;
/**
 * How long a held refusal waits, unread, before its answer, on average: from
 * half of it to one and a half (see `hold`). Long, because libuv accepts one
 * connection per turn of a busy event loop: every refused connection that
 * comes back takes one of those turns from the other addresses waiting in
 * the same listen queue. (Measured in bench/RESULTS.md: with 1 s, another
 * address waited 0.2 to 1 s under a flood; with 5 s, as long as with raw
 * `node:http`.)
 */
export const REFUSAL_HOLD_MS = 5000;

/**
 * Paces the refusals of connections over a limit (`maxConnections`,
 * `maxConnectionsPerPeer`).
 *
 * A client refused at once reconnects at once (wrk, a retry loop, a
 * browser's pool): answered as fast as it comes back, one address keeps the
 * accept loop busy with nothing but refusals, and the kernel's listen queue,
 * which every address shares, overflows. Other clients' handshakes are then
 * dropped, and they wait seconds for the kernel's retry. So each address
 * gets its first `REFUSAL_BURST` refusals of a second at once, and after
 * that a refused connection is held, paused and unread, for about
 * `REFUSAL_HOLD_MS` before it is answered: an address can then make the
 * server accept no faster than its refused connections come back, once a
 * hold each. Held connections cost a descriptor each, so at most `maxHeld`
 * are held; past that a refusal is a reset, the cheapest no there is.
 */
export class RefusalPacer {
  /** Refusals per address in the current one-second window. */
  private readonly recent = new Map<string, number>();
  private windowStart = 0;
  private readonly held = new Set<Socket>();
  private stopped = false;

  constructor(private readonly maxHeld: number, private readonly tls: boolean) {}

  refuse(socket: Socket, peer: string): void {
    socket.on('error', () => {});
    const now = performance.now();
    if (now - this.windowStart >= 1000) {
      this.recent.clear();
      this.windowStart = now;
    }
    const count = (this.recent.get(peer) ?? 0) + 1;
    this.recent.set(peer, count);
    // A stopping listener holds nothing: stopping waits for every connection to close.
    if (count <= REFUSAL_BURST || this.stopped) {
      refuseConnection(socket, this.tls);
      return;
    }
    if (this.held.size >= this.maxHeld) {
      socket.resetAndDestroy();
      return;
    }
    this.hold(socket);
  }

  /** Ends every held refusal now: the listener is stopping, and no connection may outlive it. */
  stop(): void {
    this.stopped = true;
    for (const socket of this.held) socket.destroy();
    this.held.clear();
  }

  private hold(socket: Socket): void {
    socket.pause();
    this.held.add(socket);
    // Spread over half a hold to one and a half: connections refused together (a client opening
    // hundreds at once) would otherwise all come back together, a burst the listen queue cannot take.
    const timer = setTimeout(() => {
      this.held.delete(socket);
      refuseConnection(socket, this.tls);
    }, REFUSAL_HOLD_MS * (0.5 + Math.random()));
    socket.once('close', () => {
      clearTimeout(timer);
      this.held.delete(socket);
    });
  }
}
