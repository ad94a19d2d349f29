/**
 * Header dictionaries that look up names case-insensitively but enumerate
 * (and print, and serialise) them as the client sent them.
 */

/** A header dictionary: `headers['Content-Type']` and `headers['content-type']` both work. */
export type HeaderDict = Record<string, string>;

const lowerNames = Symbol('lowerNames');

interface HeaderTarget extends Record<string | symbol, unknown> {
  [lowerNames]: Map<string, string>;
}

const handler: ProxyHandler<HeaderTarget> = {
  get(target, key, receiver) {
    if (typeof key === 'string' && !Object.hasOwn(target, key)) {
      const original = target[lowerNames].get(key.toLowerCase());
      if (original !== undefined) return target[original];
    }
    return Reflect.get(target, key, receiver);
  },
  has(target, key) {
    if (typeof key === 'string' && target[lowerNames].has(key.toLowerCase())) return true;
    return Reflect.has(target, key);
  },
  set(target, key, value) {
    if (typeof key !== 'string') return Reflect.set(target, key, value);
    const lower = key.toLowerCase();
    const name = target[lowerNames].get(lower) ?? key;
    target[lowerNames].set(lower, name);
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
    return true;
  },
  deleteProperty(target, key) {
    if (typeof key !== 'string') return Reflect.deleteProperty(target, key);
    const lower = key.toLowerCase();
    const name = target[lowerNames].get(lower);
    if (name === undefined) return true;
    target[lowerNames].delete(lower);
    return Reflect.deleteProperty(target, name);
  },
  getOwnPropertyDescriptor(target, key) {
    if (typeof key === 'string' && !Object.hasOwn(target, key)) {
      const original = target[lowerNames].get(key.toLowerCase());
      if (original !== undefined) return Reflect.getOwnPropertyDescriptor(target, original);
    }
    return Reflect.getOwnPropertyDescriptor(target, key);
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
  const target = {} as HeaderTarget;
  const names = new Map<string, string>();
  Object.defineProperty(target, lowerNames, { value: names, enumerable: false });
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    const lower = name.toLowerCase();
    const seen = names.get(lower);
    if (seen === undefined) {
      names.set(lower, name);
      // defineProperty, not assignment: a header named `__proto__` must stay a plain key.
      Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
    } else if (!SINGLE_VALUED.has(lower)) {
      const separator = lower === 'cookie' ? '; ' : ', ';
      target[seen] = `${target[seen] as string}${separator}${value}`;
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
  const target = {} as HeaderTarget;
  const names = new Map<string, string>();
  Object.defineProperty(target, lowerNames, { value: names, enumerable: false });
  for (const [name, value] of entries) {
    names.set(name.toLowerCase(), name);
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  }
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
