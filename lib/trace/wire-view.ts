import type { Socket } from 'node:net';
import { CYAN, DIM, GREEN, formatPeer, type Transcript } from './transcript.js';

/** Bytes shown of each chunk read or written; the rest is counted, so a large download cannot flood the terminal. */
export const SHOWN_PER_CHUNK = 2048;

type Direction = '>' | '<';

/** A line of bytes begun and not yet ended: the next chunk of the same connection and direction may go on with it. */
interface OpenLine {
  connection: number;
  direction: Direction;
  text: string;
  /** A CR ended the last chunk: whether it is a line end depends on the next byte. */
  carriageReturn: boolean;
}

/** What `tapConnection` needs to know about a socket. */
export interface TapOptions {
  /** Node's parser already reads this socket (HTTPS, on 'secureConnection'). */
  parserAttached: boolean;
  /** Shown in the connection's headline. */
  secure: boolean;
}

/**
 * The wire view: the bytes of every connection as a transcript a class
 * reads line by line, `> ` for what came in and `< ` for what went out
 * (curl -v's convention), with a headline whenever another connection
 * takes the floor. Lines are split at LF; CR LF and a lone LF show at the
 * end of their line as `\r\n` and `\n`, and every other byte outside
 * printable ASCII as an escape, so a stray CR or a UTF-8 sequence is seen
 * for what it is on the wire.
 */
export class WireView {
  readonly #transcript: Transcript;
  #lastConnection: number | undefined;
  #open: OpenLine | undefined;
  #flushScheduled = false;

  constructor(transcript: Transcript) {
    this.#transcript = transcript;
    transcript.interrupt = () => this.#endLine();
  }

  /**
   * Shows what `socket` reads and writes from now on. Outgoing bytes are
   * caught by wrapping this socket's own `write` and `end`, which Node's
   * responses, the 1.0/0.9 writer and the refusals all go through.
   * Incoming bytes come from a 'data' listener put in front of Node's own,
   * so a request prints before the answer a synchronous callback writes
   * while the parser is still on it. A plain-HTTP socket is watched before
   * its parser is attached (the first bytes may be refused there); call
   * the returned function once the parser is attached.
   */
  tapConnection(socket: Socket, options: TapOptions): () => void {
    const number = this.#transcript.nextConnection();
    const peer = `${formatPeer(socket.remoteAddress ?? '', socket.remotePort ?? 0)}${options.secure ? ' (TLS, decrypted)' : ''}`;
    let shown = false;
    // These run inside the socket's own events and writes: nothing may escape from them.
    const record = (direction: Direction, bytes: Uint8Array, total: number) => {
      shown = true;
      try {
        this.#record(number, peer, direction, bytes, total);
      } catch {
        // A picture lost; the bytes themselves are untouched.
      }
    };
    wrapWrites(socket, (bytes, total) => record('<', bytes, total));
    socket.once('close', () => {
      if (!shown) return;
      // Whatever is printed next starts with its own headline, even if it is the connection printed last.
      this.#lastConnection = undefined;
      this.#transcript.write(this.#endLine() + this.#transcript.headline(`connection ${number} closed`));
    });

    const read = (chunk: Buffer) => record('>', chunk.subarray(0, SHOWN_PER_CHUNK), chunk.length);
    if (options.parserAttached) {
      socket.prependListener('data', read);
      return () => {};
    }
    let first: Buffer | undefined;
    const early = (chunk: Buffer) => {
      first ??= chunk;
      read(chunk);
    };
    socket.on('data', early);
    return () => {
      socket.off('data', early);
      // The bytes already shown come round again: put back for the parser (with the CR LF that
      // completes an HTTP/0.9 line, which the client never sent). They are not shown twice.
      let again = first !== undefined;
      const onData = (chunk: Buffer) => {
        if (again) {
          again = false;
          if (isReplayOf(chunk, first!)) return;
        }
        read(chunk);
      };
      // Through Node's wrapper: a 'data' listener makes the parser take its bytes from 'data' events too.
      socket.prependListener('data', onData);
    };
  }

  #record(connection: number, peer: string, direction: Direction, bytes: Uint8Array, total: number): void {
    let text = '';
    const open = this.#open;
    if (open !== undefined && (open.connection !== connection || open.direction !== direction)) text += this.#endLine();
    if (this.#lastConnection !== connection) {
      this.#lastConnection = connection;
      text += this.#transcript.headline(`connection ${connection}`, peer);
    }
    const line = this.#open ?? { connection, direction, text: '', carriageReturn: false };
    text += this.#lines(line, bytes);
    this.#open = line.text === '' && !line.carriageReturn ? undefined : line;
    if (total > bytes.length) {
      text += this.#endLine() + `${this.#transcript.paint(DIM, `… ${total - bytes.length} more bytes`)}\n`;
    }
    this.#transcript.write(text);
    // A line still open once this tick's writes are done is a last line without LF: shown as it is.
    if (this.#open !== undefined && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.#transcript.write(this.#endLine());
      });
    }
  }

  /** Appends `bytes` to `line`, returning every line they complete. */
  #lines(line: OpenLine, bytes: Uint8Array): string {
    let out = '';
    let at = 0;
    if (line.carriageReturn && bytes.length > 0) {
      line.carriageReturn = false;
      if (bytes[0] === 0x0a) {
        out += this.#emit(line, '\\r\\n');
        at = 1;
      } else {
        line.text += this.#escape('\\r');
      }
    }
    let run = at;
    for (let i = at; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (byte >= 0x20 && byte < 0x7f && byte !== 0x5c) continue;
      line.text += Buffer.from(bytes.buffer, bytes.byteOffset + run, i - run).toString('latin1');
      run = i + 1;
      if (byte === 0x0a) {
        out += this.#emit(line, '\\n');
      } else if (byte === 0x0d) {
        if (i + 1 === bytes.length) line.carriageReturn = true;
        else if (bytes[i + 1] === 0x0a) {
          out += this.#emit(line, '\\r\\n');
          i += 1;
          run = i + 1;
        } else {
          line.text += this.#escape('\\r');
        }
      } else {
        line.text += this.#escape(escapeByte(byte));
      }
    }
    line.text += Buffer.from(bytes.buffer, bytes.byteOffset + run, bytes.length - run).toString('latin1');
    return out;
  }

  /** Ends the open line (if any) as it stands; returns the text to print. */
  #endLine(): string {
    const line = this.#open;
    if (line === undefined) return '';
    this.#open = undefined;
    return this.#emit(line, line.carriageReturn ? '\\r' : '');
  }

  #emit(line: OpenLine, ending: string): string {
    const text = `${line.direction} ${line.text}${ending === '' ? '' : this.#escape(ending)}`;
    line.text = '';
    line.carriageReturn = false;
    return `${this.#transcript.paint(line.direction === '>' ? GREEN : CYAN, text)}\n`;
  }

  #escape(text: string): string {
    return this.#transcript.paint(DIM, text);
  }
}

function escapeByte(byte: number): string {
  if (byte === 0x09) return '\\t';
  if (byte === 0x5c) return '\\\\';
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

/** first-bytes.ts puts its chunk back as it came, or with CR LF added to complete a 0.9 request line. */
function isReplayOf(chunk: Buffer, first: Buffer): boolean {
  if (chunk.length === first.length) return chunk.equals(first);
  return chunk.length === first.length + 2 && chunk.subarray(0, first.length).equals(first) &&
    chunk[first.length] === 0x0d && chunk[first.length + 1] === 0x0a;
}

/** Calls `record` with the first bytes and the full length of every chunk `socket` is asked to send, then sends it. */
function wrapWrites(socket: Socket, record: (bytes: Uint8Array, total: number) => void): void {
  const write = socket.write;
  const end = socket.end;
  const see = (chunk: unknown, encoding: unknown) => {
    try {
      const bytes = chunkBytes(chunk, encoding);
      if (bytes !== undefined && bytes.total > 0) record(bytes.shown, bytes.total);
    } catch {
      // The bytes still go out; only their picture is lost.
    }
  };
  socket.write = function (this: Socket, ...args: unknown[]) {
    see(args[0], args[1]);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof socket.write;
  socket.end = function (this: Socket, ...args: unknown[]) {
    if (typeof args[0] !== 'function') see(args[0], args[1]);
    return (end as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof socket.end;
}

function chunkBytes(chunk: unknown, encoding: unknown): { shown: Uint8Array; total: number } | undefined {
  if (chunk instanceof Uint8Array) return { shown: chunk.subarray(0, SHOWN_PER_CHUNK), total: chunk.byteLength };
  if (typeof chunk !== 'string') return undefined;
  const code = (typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8') as BufferEncoding;
  // Only the start is encoded for the picture: a string of megabytes is not copied to show 2 KiB of it.
  const start = Buffer.from(chunk.slice(0, SHOWN_PER_CHUNK), code);
  return { shown: start.subarray(0, SHOWN_PER_CHUNK), total: Buffer.byteLength(chunk, code) };
}
