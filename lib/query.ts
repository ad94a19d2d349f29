import qs from 'qs';

/** Options handed to `qs.parse`; see the `query` option of `registerCallback`. */
export type QueryOptions = qs.IParseOptions;

/**
 * Seattle's `querydict` is flat and turns a bare key into `None`:
 * `'foo=bar&baz'` gives `{ foo: 'bar', baz: null }`. qs already survives
 * malformed escapes (it keeps the raw text) and drops keys such as
 * `__proto__` that would reach `Object.prototype`.
 */
const SEATTLE_DEFAULTS: qs.IParseOptions = {
  strictNullHandling: true,
  allowPrototypes: false,
  parameterLimit: 1000,
};

export function queryOptions(user: QueryOptions | undefined): qs.IParseOptions {
  return user === undefined ? SEATTLE_DEFAULTS : { ...SEATTLE_DEFAULTS, ...user };
}

export function parseQuery(text: string | null, options: qs.IParseOptions): Record<string, unknown> {
  if (text === null || text === '') return {};
  return qs.parse(text, options) as Record<string, unknown>;
}
