/** What the checks read of a parsed head: Node's `IncomingMessage` is one. */
export interface ParsedHead {
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly rawHeaders: string[];
  readonly headers: { readonly 'transfer-encoding'?: string | undefined };
}

/** The limits a parsed request head is held to, beyond what Node's parser enforces itself. */
export interface HeadLimits {
  maxHeaderCount: number;
  maxUrlLength: number;
  /** Hand HTTP/0.9 request lines (`GET /path`, no version) to the callback; Seattle refuses them with 400. */
  http09: boolean;
}

/**
 * A Host value: `uri-host [ ":" port ]` (RFC 9112, section 3.2, and RFC 3986,
 * section 3.2.2): an IP literal in brackets, or a reg-name / IPv4 address
 * made of unreserved, percent-encoded and sub-delimiter characters.
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]+(?:%25[\w.~-]+)?\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::\d*)?$/;

/**
 * The status that refuses a request Node's parser accepted but this server
 * will not hand to a callback, or `undefined` when the head is sound. Node's
 * parser already refuses malformed syntax, CL/TE conflicts and bad chunking;
 * these are the checks it leaves to the server (RFC 9112).
 *
 * Every refusal closes the connection: after a head we distrust, the framing
 * of what follows cannot be trusted either.
 */
export function refusalStatus(message: ParsedHead, limits: HeadLimits): number | undefined {
  if (message.httpVersionMajor > 1) return 505;
  // A true HTTP/0.9 request is `GET target` alone. llhttp reads any versionless line as 0.9, with
  // headers after it: that is a mangled 1.x request, not an HTTP/0.9 client. Seattle refuses both.
  if (message.httpVersionMajor === 0 && (!limits.http09 || message.method !== 'GET' || message.rawHeaders.length > 0)) return 400;
  // Node keeps one header more than the limit, so that too many is seen rather than silently cut.
  if (message.rawHeaders.length / 2 > limits.maxHeaderCount) return 431;
  if ((message.url ?? '').length > limits.maxUrlLength) return 414;
  // Node's own check (`requireHostHeader`) answers outside the listener, where a request pipelined
  // behind it would still reach the callback: every refusal is made here, where it closes the connection.
  if (!hostIsSound(message.rawHeaders, message.httpVersionMajor === 1 && message.httpVersionMinor === 1)) return 400;
  const coding = message.headers['transfer-encoding'];
  if (coding !== undefined) {
    // HTTP/1.0 has no chunked coding: its framing is faulty (RFC 9112, section 6.1).
    if (message.httpVersionMinor === 0) return 400;
    if (coding.trim().toLowerCase() !== 'chunked') return 501;
  }
  return undefined;
}

/**
 * At most one Host header (Node keeps the first of several silently), with a
 * well-formed value; exactly one when `required` (HTTP/1.1, RFC 9112 section 3.2).
 */
function hostIsSound(rawHeaders: string[], required: boolean): boolean {
  let seen = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
    if (seen || !wellFormedHost(rawHeaders[i + 1]!)) return false;
    seen = true;
  }
  return seen || !required;
}

/** The Host value last found well formed: clients send the same one request after request. */
let lastGoodHost = '';

function wellFormedHost(value: string): boolean {
  if (value === lastGoodHost) return true;
  if (!HOST.test(value)) return false;
  lastGoodHost = value;
  return true;
}
