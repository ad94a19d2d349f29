import qs from 'qs';

/**
 * Options handed to `qs.parse`; see the `query` option of `registerCallback`
 * and qs's documentation. Declared here rather than taken from `@types/qs`,
 * so that the published types need nothing a consumer has not installed.
 */
export interface QueryOptions {
  allowDots?: boolean;
  allowEmptyArrays?: boolean;
  allowPrototypes?: boolean;
  allowSparse?: boolean;
  arrayLimit?: number;
  charset?: 'utf-8' | 'iso-8859-1';
  charsetSentinel?: boolean;
  comma?: boolean;
  decodeDotInKeys?: boolean;
  decoder?: (text: string, defaultDecoder: (text: string) => string, charset: string, type: 'key' | 'value') => unknown;
  delimiter?: string | RegExp;
  depth?: number | false;
  duplicates?: 'combine' | 'first' | 'last';
  ignoreQueryPrefix?: boolean;
  interpretNumericEntities?: boolean;
  parameterLimit?: number;
  parseArrays?: boolean;
  plainObjects?: boolean;
  strictDepth?: boolean;
  strictNullHandling?: boolean;
  throwOnLimitExceeded?: boolean;
}

/**
 * Seattle's `querydict` is flat and turns a bare key into `None`:
 * `'foo=bar&baz'` gives `{ foo: 'bar', baz: null }`. qs already survives
 * malformed escapes (it keeps the raw text) and drops keys such as
 * `__proto__` that would reach `Object.prototype`.
 */
const SEATTLE_DEFAULTS: QueryOptions = {
  strictNullHandling: true,
  allowPrototypes: false,
  parameterLimit: 1000,
};

export function queryOptions(user: QueryOptions | undefined): QueryOptions {
  return user === undefined ? SEATTLE_DEFAULTS : { ...SEATTLE_DEFAULTS, ...user };
}

export function parseQuery(text: string | null, options: QueryOptions): Record<string, unknown> {
  if (text === null || text === '') return {};
  return (options === SEATTLE_DEFAULTS ? parseFlat(text) : undefined) ??
    qs.parse(text, options as qs.IParseOptions) as Record<string, unknown>;
}

/**
 * What qs.parse gives with the Seattle defaults, for the common query
 * string whose keys are plain names, each given once (`?name=ada&page=2`),
 * at a tenth of its cost; `undefined` for anything else (brackets, a key
 * given twice, an empty or reserved key, too many parts), which qs parses.
 * test/query.test.ts checks that the two agree.
 */
function parseFlat(text: string): Record<string, unknown> | undefined {
  if (BRACKETS.test(text)) return undefined;
  const result: Record<string, unknown> = {};
  let start = 0;
  for (let count = 1; ; count++) {
    if (count > SEATTLE_DEFAULTS.parameterLimit!) return undefined;
    const end = text.indexOf('&', start);
    const part = end === -1 ? text.slice(start) : text.slice(start, end);
    const equals = part.indexOf('=');
    const key = decode(equals === -1 ? part : part.slice(0, equals));
    if (key === '' || Object.hasOwn(result, key) || Object.hasOwn(Object.prototype, key)) return undefined;
    result[key] = equals === -1 ? null : decode(part.slice(equals + 1));
    if (end === -1) return result;
    start = end + 1;
  }
}

/** Brackets, encoded or not, make qs build nested objects and arrays. */
const BRACKETS = /[[\]]|%5[bd]/i;

/** qs's own decoding: `+` is a space, and an escape that does not decode is kept as it is. */
function decode(text: string): string {
  const spaced = text.includes('+') ? text.replace(/\+/g, ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
