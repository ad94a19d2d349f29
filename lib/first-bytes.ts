import type { Socket } from 'node:net';
import { writeStatusAndClose } from './connection.js';

const CRLF = Buffer.from('\r\n');
/** `method SP request-target`, with no HTTP version after it: an HTTP/0.9 Simple-Request line. */
const VERSIONLESS_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [^ ]+$/;
const HTTP2_PREFACE_LINE = 'PRI * HTTP/2.0';

/**
 * Looks at the first bytes of a plain-HTTP connection before Node's parser
 * gets them, for the one request llhttp cannot finish on its own: an
 * HTTP/0.9 line (`GET /` and CRLF, no version) from a client that then waits
 * in silence. llhttp reads such a line as 0.9 with headers to follow and
 * would wait for them until `headersTimeout`. Seattle's httpserver refuses
 * such a line, and so does this one, at once, with 400. With `http09` a 0.9
 * request (which has no headers) gets the blank line that ends it added
 * here, and is answered at once, 0.9 style; a versionless line with any
 * other method (0.9 knew only GET) still gets 400. The HTTP/2
 * prior-knowledge preface gets 505. Everything else, including the parsing
 * of these very bytes, is Node's.
 *
 * Only the first chunk is looked at, so this costs one read per connection
 * and never delays a request: a first line split across packets is left to
 * the parser (and to `headersTimeout`). A connection that sends nothing gets
 * 408 after `headersTimeout`, as Node would answer it.
 */
export function inspectFirstBytes(
  socket: Socket, options: { headersTimeout: number; http09: boolean }, handOver: () => void,
): void {
  const { headersTimeout } = options;
  const onError = () => {};
  let timer: NodeJS.Timeout | undefined;
  const settle = () => {
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
    const verdict = classify(chunk, options.http09);
    if (typeof verdict === 'number') {
      writeStatusAndClose(socket, verdict);
      return;
    }
    socket.unshift(verdict);
    handOver();
    // Node's parser now owns the socket; the bytes put back reach it first.
    socket.resume();
  };
  // Until Node's parser is attached, this module answers for the socket's errors (a reset, say).
  socket.on('error', onError);
  socket.on('data', onData);
  socket.once('close', settle);
  socket.once('end', onEnd);
  if (headersTimeout > 0) {
    timer = setTimeout(() => {
      settle();
      writeStatusAndClose(socket, 408);
    }, headersTimeout);
  }
}

/** The bytes to hand to the parser (completed when they are a 0.9 line), or the status that refuses them. */
function classify(chunk: Buffer, http09: boolean): Buffer | number {
  const lineFeed = chunk.indexOf(0x0a);
  // No complete first line, or a bare LF (llhttp's to judge): nothing to add.
  if (lineFeed < 1 || chunk[lineFeed - 1] !== 0x0d) return chunk;
  const line = chunk.toString('latin1', 0, lineFeed - 1);
  if (line === HTTP2_PREFACE_LINE) return 505;
  if (!VERSIONLESS_LINE.test(line)) return chunk;
  if (!http09 || !line.startsWith('GET ')) return 400;
  // More bytes came with the line (the blank line, or headers llhttp accepts): they go on as they came.
  if (lineFeed + 1 < chunk.length) return chunk;
  return Buffer.concat([chunk, CRLF]);
}
