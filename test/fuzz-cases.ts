/**
 * Deterministic generation of malformed HTTP/1.x requests for the fuzz
 * test: a small seeded PRNG, a handful of valid seed requests, and
 * mutations that aim at the places HTTP parsers get wrong (line endings,
 * header folding, framing numbers, duplicated or missing fields).
 *
 * Everything is a latin1 string, one character per byte, so a mutation can
 * put any byte anywhere and `Buffer.from(text, 'latin1')` sends it unchanged.
 */

/**
 * xorshift32 (Marsaglia, 2003): tiny, fast, and identical on every run
 * for the same seed, which is all a reproducible fuzzer needs.
 */
export class Prng {
  #state: number;

  constructor(seed: number) {
    // xorshift has one fixed point, 0: any seed, including 0, is mixed away from it.
    this.#state = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0) || 0x6d2b79f5;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }

  /** An integer in [low, high]. */
  between(low: number, high: number): number {
    return low + this.below(high - low + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  chance(probability: number): boolean {
    return this.next() / 0x1_0000_0000 < probability;
  }
}

/** Valid requests the mutations start from, each exercising a different framing path. */
export const SEEDS: readonly string[] = [
  // GET with a query string and ordinary headers.
  'GET /search?q=seattle&lang=en&page=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fuzz/1\r\nAccept: */*\r\n\r\n',
  // POST with a Content-Length body.
  'POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 21\r\n\r\nname=ada&lang=english',
  // Chunked POST with a chunk extension and trailers.
  'POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n' +
    '5\r\nhello\r\n7;name=value\r\n, world\r\n0\r\nX-Checksum: 1234\r\n\r\n',
  // HTTP/1.0, no Host.
  'GET /old/page.html HTTP/1.0\r\nUser-Agent: fuzz/1\r\n\r\n',
  // Two pipelined requests, the second with a body.
  'GET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nPOST /second HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nabcde',
  // Expect: 100-continue with its body sent right away.
  'PUT /expect HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n0123456789',
];

/** Upper bound on a case's size: repeats must not turn one case into megabytes. */
const MAX_CASE_LENGTH = 64 * 1024;

const SPECIAL_BYTES = ['\r', '\n', '\r\n', '\0', ' ', '\t', '\r\r\n', '\n\r'] as const;

/** Replacements for a Content-Length value: huge, negative, hex, lists, padding, junk. */
const LENGTH_VALUES = [
  '0', '1', '99999999999999999999', '18446744073709551616', '9007199254740993', '-1', '-0', '+5', '0x10', '1e3',
  '5, 5', '5,6', '5 5', ' 5', '5 ', '05', '', '1.5', '\t7', '4294967296', '2147483648',
] as const;

/** Replacements for a chunk-size line: huge, negative, non-hex, prefixed, with extensions. */
const CHUNK_SIZES = [
  '0', 'ffffffffffffffff', 'fffffffffffffffff0', '-1', '0x5', 'g', '5 ', ' 5', '5;', '5;a=b;c', '5;a="q"', '00005',
  '5\t', 'FFFFFFFF', '1'.repeat(40), '',
] as const;

/** Whole header lines that trouble parsers and proxies: smuggling classics and oddities. */
const INJECTED_HEADERS = [
  'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked, identity',
  'Transfer-Encoding:\tchunked', 'Transfer-Encoding : chunked', 'Transfer-encoding: xchunked',
  'Content-Length: 3', 'Content-Length: 0', 'Content-Length: 100000000', 'Host: other.example',
  'Host:', 'Expect: 100-continue', 'Expect: 200-ok', 'Connection: close', 'Connection: keep-alive, Upgrade',
  'Upgrade: websocket', 'X-Empty:', ':no-name', 'Bad Name: x', 'X-Utf8: \xc3\xa9', 'X-Ctl: a\x01b',
] as const;

const VERSIONS = ['HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.10', 'HTTP/9.9', 'http/1.1', 'HTTP/1', 'HTTP/1.1 '] as const;

type Mutation = (input: string, random: Prng) => string;

/** Index of the first CRLFCRLF (end of the first head), or the input's length when there is none. */
function headEnd(input: string): number {
  const end = input.indexOf('\r\n\r\n');
  return end === -1 ? input.length : end;
}

/** Start offsets of the lines after the request line within the first head. */
function headerLineStarts(input: string): number[] {
  const end = headEnd(input);
  const starts: number[] = [];
  for (let at = input.indexOf('\r\n'); at !== -1 && at < end; at = input.indexOf('\r\n', at + 2)) starts.push(at + 2);
  return starts;
}

function lineAt(input: string, start: number): string {
  const end = input.indexOf('\r\n', start);
  return input.slice(start, end === -1 ? input.length : end);
}

function randomByte(random: Prng): string {
  return String.fromCharCode(random.below(256));
}

function spliceAt(input: string, at: number, remove: number, insert: string): string {
  return input.slice(0, at) + insert + input.slice(at + remove);
}

/** Offsets where `pattern` matches, so a mutation can aim at one of them. */
function matchOffsets(input: string, pattern: RegExp): Array<{ index: number; length: number }> {
  const found: Array<{ index: number; length: number }> = [];
  for (const match of input.matchAll(pattern)) {
    found.push({ index: match.index, length: match[0].length });
    if (found.length >= 32) break;
  }
  return found;
}

const MUTATIONS: ReadonlyArray<readonly [name: string, mutate: Mutation]> = [
  ['flip a bit', (input, random) => {
    if (input.length === 0) return input;
    const at = random.below(input.length);
    return spliceAt(input, at, 1, String.fromCharCode(input.charCodeAt(at) ^ (1 << random.below(8))));
  }],
  ['overwrite a byte', (input, random) => spliceAt(input, random.below(input.length), 1, randomByte(random))],
  ['insert random bytes', (input, random) => {
    let bytes = '';
    for (let n = random.between(1, 4); n > 0; n -= 1) bytes += randomByte(random);
    return spliceAt(input, random.below(input.length + 1), 0, bytes);
  }],
  ['delete bytes', (input, random) => spliceAt(input, random.below(input.length), random.between(1, 8), '')],
  ['insert CR, LF, NUL, SP or TAB', (input, random) =>
    spliceAt(input, random.below(input.length + 1), 0, random.pick(SPECIAL_BYTES))],
  ['put a special byte at a line end', (input, random) => {
    const ends = matchOffsets(input, /\r\n/g);
    if (ends.length === 0) return input;
    const { index } = random.pick(ends);
    // Bare LF, bare CR, CR CR LF, NUL before the CRLF...
    return spliceAt(input, index, 2, random.pick(['\n', '\r', '\r\r\n', '\0\r\n', ' \r\n', '\r\n\r\n', '\r \n']));
  }],
  ['obs-fold a header line', (input, random) => {
    const starts = headerLineStarts(input);
    if (starts.length === 0) return input;
    const start = random.pick(starts);
    const line = lineAt(input, start);
    const cut = random.between(0, line.length);
    // A line break followed by whitespace: RFC 9112 obsolete line folding.
    return spliceAt(input, start + cut, 0, `\r\n${random.pick([' ', '\t', '  '])}`);
  }],
  ['duplicate a header line', (input, random) => {
    const starts = headerLineStarts(input);
    if (starts.length === 0) return input;
    const start = random.pick(starts);
    const line = lineAt(input, start);
    return spliceAt(input, start, 0, `${line}\r\n`);
  }],
  ['drop a header line', (input, random) => {
    const starts = headerLineStarts(input).filter((start) => lineAt(input, start).length > 0);
    if (starts.length === 0) return input;
    const start = random.pick(starts);
    return spliceAt(input, start, lineAt(input, start).length + 2, '');
  }],
  ['swap the case of a header name', (input, random) => {
    const starts = headerLineStarts(input);
    if (starts.length === 0) return input;
    const start = random.pick(starts);
    const line = lineAt(input, start);
    const colon = line.indexOf(':');
    const name = line.slice(0, colon === -1 ? line.length : colon);
    const swapped = [...name].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
    return spliceAt(input, start, name.length, swapped);
  }],
  ['inject a troublesome header line', (input, random) => {
    const starts = headerLineStarts(input);
    const at = starts.length === 0 ? input.length : random.pick(starts);
    return spliceAt(input, at, 0, `${random.pick(INJECTED_HEADERS)}\r\n`);
  }],
  ['change a Content-Length', (input, random) => {
    const values = matchOffsets(input, /(?<=content-length:[ \t]*)[^\r\n]*/gi);
    if (values.length === 0) return input;
    const { index, length } = random.pick(values);
    return spliceAt(input, index, length, random.pick(LENGTH_VALUES));
  }],
  ['change a chunk size', (input, random) => {
    // A chunk-size line: hex digits (maybe an extension) right after a CRLF, followed by a CRLF.
    const sizes = matchOffsets(input, /(?<=\r\n)[0-9a-fA-F]+(?:;[^\r\n]*)?(?=\r\n)/g);
    if (sizes.length === 0) return input;
    const { index, length } = random.pick(sizes);
    return spliceAt(input, index, length, random.pick(CHUNK_SIZES));
  }],
  ['change the HTTP version', (input, random) => {
    const versions = matchOffsets(input, /HTTP\/\d\.\d/g);
    if (versions.length === 0) return input;
    const { index, length } = random.pick(versions);
    return spliceAt(input, index, length, random.pick(VERSIONS));
  }],
  ['truncate', (input, random) => input.slice(0, random.below(input.length + 1))],
  ['repeat a segment', (input, random) => {
    if (input.length === 0) return input;
    const start = random.below(input.length);
    const segment = input.slice(start, start + random.between(1, 64));
    // Mostly a few repeats; now and then enough to cross the 16 KiB head limit.
    const times = random.chance(0.1) ? random.between(100, 2000) : random.between(2, 8);
    return spliceAt(input, start, 0, segment.repeat(times));
  }],
  ['splice with another seed', (input, random) => {
    const other = random.pick(SEEDS);
    return input.slice(0, random.below(input.length + 1)) + other.slice(random.below(other.length + 1));
  }],
];

export interface FuzzCase {
  /** Position in the run: with the seed, enough to regenerate the case. */
  index: number;
  /** The bytes to send, one latin1 character per byte. */
  bytes: string;
  /** The seed request and the mutations applied to it, for the failure message. */
  recipe: string;
}

/**
 * The `count` cases of a run, in order. Each is one seed with one to four
 * mutations stacked; the same `seed` always gives the same cases.
 */
export function generateCases(seed: number, count: number): FuzzCase[] {
  const random = new Prng(seed);
  const cases: FuzzCase[] = [];
  for (let index = 0; index < count; index += 1) {
    const seedIndex = random.below(SEEDS.length);
    let bytes = SEEDS[seedIndex]!;
    const applied: string[] = [];
    for (let n = random.between(1, 4); n > 0; n -= 1) {
      const [name, mutate] = random.pick(MUTATIONS);
      bytes = mutate(bytes, random).slice(0, MAX_CASE_LENGTH);
      applied.push(name);
    }
    cases.push({ index, bytes, recipe: `seed request ${seedIndex}: ${applied.join(', ')}` });
  }
  return cases;
}
