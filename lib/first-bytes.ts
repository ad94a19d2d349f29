import type { Socket } from 'node:net';
import { writeStatusAndClose } from './connection.js';

const CRLF = Buffer.from('\r\n');
/** `method SP request-target`, with no HTTP version after it: an HTTP/0.9 Simple-Request line. */
const VERSIONLESS_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [^ ]+$/;
const HTTP2_PREFACE_LINE = 'PRI * HTTP/2.0';

/** What to do with a connection's first bytes: hand these bytes to the parser, or refuse with a status. */
type Verdict = Buffer | { status: number; text?: string };

/** How one kind of port judges its connections' first bytes. */
export interface FirstBytesRules {
  classify(chunk: Buffer): Verdict;
  /** The status for a client still silent after `headersTimeout`; none: the connection is just closed. */
  silence?: number;
}

/**
 * Looks at the first chunk of a connection before Node's parser (HTTP, or
 * TLS on an HTTPS port) gets it, for what that parser cannot answer well on
 * its own (see `plainHttpVerdict` and `tlsPortVerdict`). Everything else,
 * including the parsing of these very bytes, is Node's.
 *
 * Only the first chunk is looked at, so this costs one read per connection
 * and never delays a request: a first line split across packets is left to
 * the parser (and to `headersTimeout`). A plain-HTTP connection that sends
 * nothing gets 408 after `headersTimeout`, as Node would answer it; a TLS
 * one is closed then (Node's TLS handshake deadline would take 120 s).
 */
export function inspectFirstBytes(socket: Socket, headersTimeout: number, rules: FirstBytesRules, handOver: () => void): void {
  const { classify, silence } = rules;
  const onError = () => {};
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const settle = () => {
    settled = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', settle);
    socket.off('end', onEnd);
    socket.off('error', onError);
  };
  // The HTTP server allows half-open sockets: a client that leaves before sending anything is let go here.
  const onEnd = () => {
    settle();
    socket.destroy();
  };
  const onData = (chunk: Buffer) => {
    settle();
    socket.pause();
    const verdict = classify(chunk);
    if (!Buffer.isBuffer(verdict)) {
      writeStatusAndClose(socket, verdict.status, verdict.text);
      return;
    }
    // The parser now owns the socket: the bytes put back reach it first. (The HTTP hand-over resumes
    // the socket; a TLS socket takes them from its buffer while paused, and would lose them if resumed.)
    socket.unshift(verdict);
    handOver();
  };
  // Until Node's parser is attached, this module answers for the socket's errors (a reset, say).
  socket.on('error', onError);
  socket.on('data', onData);
  socket.once('close', settle);
  socket.once('end', onEnd);
  if (headersTimeout > 0) {
    timer = setTimeout(() => {
      // A timer that fires after the event loop was blocked runs before the bytes that came meanwhile
      // are read: they get one turn of the loop to arrive before the client is blamed.
      setImmediate(() => {
        if (settled) return;
        settle();
        if (silence === undefined) socket.destroy();
        else writeStatusAndClose(socket, silence);
      });
    }, headersTimeout);
  }
}

/**
 * Plain HTTP, for the one request llhttp cannot finish on its own: an
 * HTTP/0.9 line (`GET /` and CRLF, no version) from a client that then waits
 * in silence. llhttp reads such a line as 0.9 with headers to follow and
 * would wait for them until `headersTimeout`. Seattle's httpserver refuses
 * such a line, and so does this one, at once, with 400. With `http09` a 0.9
 * request (which has no headers) gets the blank line that ends it added
 * here, and is answered at once, 0.9 style; a versionless line with any
 * other method (0.9 knew only GET) still gets 400. The HTTP/2
 * prior-knowledge preface gets 505.
 */
export function plainHttpRules(http09: boolean): FirstBytesRules {
  return { classify: (chunk) => plainHttpVerdict(chunk, http09), silence: 408 };
}

function plainHttpVerdict(chunk: Buffer, http09: boolean): Verdict {
  const lineFeed = chunk.indexOf(0x0a);
  // No complete first line, or a bare LF (llhttp's to judge): nothing to add.
  if (lineFeed < 1 || chunk[lineFeed - 1] !== 0x0d) return chunk;
  const line = chunk.toString('latin1', 0, lineFeed - 1);
  if (line === HTTP2_PREFACE_LINE) return { status: 505 };
  if (!VERSIONLESS_LINE.test(line)) return chunk;
  if (!http09 || !line.startsWith('GET ')) return { status: 400 };
  // More bytes came with the line (the blank line, or headers llhttp accepts): they go on as they came.
  if (lineFeed + 1 < chunk.length) return chunk;
  return Buffer.concat([chunk, CRLF]);
}

/** A TLS record of type handshake: how every TLS connection begins (RFC 8446, section 5.1). */
const TLS_HANDSHAKE = 0x16;
/** A method token and a space: what an HTTP request line begins with. */
const REQUEST_LINE_START = /^[A-Z]{3,10} /;

/**
 * An HTTPS port: a client speaking plain HTTP to it (`http://` for
 * `https://`) would get no answer it can read from the TLS layer, only a
 * closed connection. It gets a plain-text 400 saying what to use, as nginx
 * answers it. Anything else is the TLS layer's to judge.
 */
export const TLS_PORT_RULES: FirstBytesRules = {
  classify(chunk) {
    if (chunk[0] === TLS_HANDSHAKE || !REQUEST_LINE_START.test(chunk.toString('latin1', 0, 11))) return chunk;
    return { status: 400, text: 'This port speaks HTTPS: use an https:// URL (the plain HTTP request was sent to an HTTPS port).\n' };
  },
  // A silent TLS client could not read an HTTP status either: it is just let go.
};
