/**
 * Header dictionaries that look up names case-insensitively but enumerate
 * (and print, and serialise) them as the client sent them.
 */

import { inspect, type InspectOptions } from 'node:util';

/** A header dictionary: `headers['Content-Type']` and `headers['content-type']` both work. */
export type HeaderDict = Record<string, string>;

/**
 * What a header dictionary's proxy stands on: the headers as own data
 * properties, and, out of sight in a private field, the index from lower-case
 * names to the names as sent. The index is built on the first lookup that
 * misses (most dictionaries are read with the names as sent, or not at all),
 * and properties are plain assignments: defining them one by one, or adding a
 * hidden property, would put every request's headers in V8's slow dictionary
 * mode (about 3 µs for four headers).
 */
class HeaderTarget {
  #lower: Map<string, string> | undefined;

  /** Printed as the plain dictionary it stands for (inspect shows a proxy's target, with `this` the proxy). */
  [inspect.custom](_depth: number, options: InspectOptions, show: typeof inspect): string {
    return show({ ...this }, options);
  }

  /** The name as sent for `key` in any case, or undefined. */
  static original(target: HeaderTarget, key: string): string | undefined {
    if (target.#lower === undefined) {
      const lower = new Map<string, string>();
      for (const name of Object.keys(target)) lower.set(name.toLowerCase(), name);
      target.#lower = lower;
    }
    return target.#lower.get(key.toLowerCase());
  }

  /** Keeps the index (if built) in step with a name added or removed. */
  static renamed(target: HeaderTarget, lower: string, name: string | undefined): void {
    if (target.#lower === undefined) return;
    if (name === undefined) target.#lower.delete(lower);
    else target.#lower.set(lower, name);
  }
}

type Target = HeaderTarget & Record<string, unknown>;

/** Stores `value` under `name` as an ordinary own property, even for a name such as `__proto__`. */
function store(target: Target, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}

const handler: ProxyHandler<Target> = {
  get(target, key) {
    if (typeof key === 'string' && !Object.hasOwn(target, key)) {
      const original = HeaderTarget.original(target, key);
      if (original !== undefined) return target[original];
      // Not a header: what a plain object would give (toString, hasOwnProperty, ...).
      return (Object.prototype as Record<string, unknown>)[key];
    }
    return Reflect.get(target, key);
  },
  has(target, key) {
    if (typeof key === 'string' && (Object.hasOwn(target, key) || HeaderTarget.original(target, key) !== undefined)) return true;
    return key in Object.prototype;
  },
  set(target, key, value) {
    if (typeof key !== 'string') return Reflect.set(target, key, value);
    const name = Object.hasOwn(target, key) ? key : HeaderTarget.original(target, key) ?? key;
    store(target, name, value);
    HeaderTarget.renamed(target, name.toLowerCase(), name);
    return true;
  },
  deleteProperty(target, key) {
    if (typeof key !== 'string') return Reflect.deleteProperty(target, key);
    const name = Object.hasOwn(target, key) ? key : HeaderTarget.original(target, key);
    if (name === undefined) return true;
    HeaderTarget.renamed(target, name.toLowerCase(), undefined);
    return Reflect.deleteProperty(target, name);
  },
  getOwnPropertyDescriptor(target, key) {
    if (typeof key === 'string' && !Object.hasOwn(target, key)) {
      const original = HeaderTarget.original(target, key);
      if (original !== undefined) return Reflect.getOwnPropertyDescriptor(target, original);
    }
    return Reflect.getOwnPropertyDescriptor(target, key);
  },
  // A plain object to whoever asks (deepStrictEqual, inspect, ...): the target's class is an implementation detail.
  getPrototypeOf() {
    return Object.prototype;
  },
};

/**
 * Builds a header dictionary from Node's flat `rawHeaders` list
 * (`[name, value, name, value, ...]`). Repeated fields are joined the way
 * Node joins them in `message.headers`: `Cookie` with `'; '`, the fields
 * Node keeps only once (`Host`, `Content-Type`, ...) keep their first
 * value, and the rest with `', '`.
 */
export function createHeaders(rawHeaders: readonly string[]): HeaderDict {
  const target = new HeaderTarget() as Target;
  // The lower-case names so far, index for index with the names stored: a list, not a Map, for a
  // handful of headers; a name that comes twice (in any case) is rare.
  const lowers: string[] = [];
  const names: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    const lower = name.toLowerCase();
    const at = lowers.indexOf(lower);
    if (at === -1) {
      lowers.push(lower);
      names.push(name);
      store(target, name, value);
    } else if (!SINGLE_VALUED.has(lower)) {
      const first = names[at]!;
      target[first] = `${target[first] as string}${lower === 'cookie' ? '; ' : ', '}${value}`;
    }
  }
  return new Proxy(target, handler) as unknown as HeaderDict;
}

/**
 * A header dictionary over names and values given once each (a response's
 * headers, say): kept as they are, arrays included, with the same
 * case-insensitive lookup as a request's.
 */
export function headerDictionary<V>(entries: Iterable<readonly [string, V]>): Record<string, V> {
  const target = new HeaderTarget() as Target;
  for (const [name, value] of entries) store(target, name, value);
  return new Proxy(target, handler) as unknown as Record<string, V>;
}

/** Fields whose duplicates Node discards (see `IncomingMessage.headers`). */
const SINGLE_VALUED = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host',
  'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards',
  'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent',
]);

/** Pairs `[name, value]` from Node's flat raw list. */
export function headerPairs(rawHeaders: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  return pairs;
}
