import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { HttpError, sendFile } from '../../lib/index.js';
import type { HttpRequest } from '../../lib/index.js';
import { entriesResponse, listingResponse, MAX_LISTING_ENTRIES, type ListingEntry } from '../../lib/static/listing.js';
import { resolveRequestPath } from '../../lib/static/safe-path.js';
import { ask, serve } from '../support.js';

/** Names that break naive HTML or URL building: markup, quotes, entities, spaces, escapes, URL delimiters. */
const HOSTILE = [
  '<script>alert(1)<', // '/' cannot be in a name, so no closing tag: the opening one is enough to execute
  '<img src=x onerror=alert(1)>.txt',
  'a"b\'c.txt',
  'a&b&amp;.txt',
  'with  two spaces.txt',
  'ünïcødé 日本語 🦀.txt',
  '100%.txt',
  '%41%2F.txt', // must stay literally "%41%2F", not decode to "A/"
  '#fragment.txt',
  '?query=1.txt',
  'semi;colon:colon.txt', // a leading "name:" would read as a URL scheme
];
const HOSTILE_DIR = 'dir <b>&"x"#?%';

function fixture(t: TestContext): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'seattle-listing-')));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** A tiny directory server: listings for paths ending in '/', files otherwise; both behind safe-path. */
async function serveListing(t: TestContext, root: string, dotfiles = false) {
  return serve(t, async (request: HttpRequest) => {
    const resolved = resolveRequestPath(root, request.path, { dotfiles });
    if (request.path.endsWith('/')) return listingResponse(request, resolved.joined, decodeURIComponent(request.path), { dotfiles });
    if (resolved.segments.length === 0) throw new HttpError(404);
    return sendFile(resolved.joined, request);
  });
}

interface Link { href: string; text: string }

interface ListingJson {
  path: string;
  truncated: boolean;
  entries: { name: string; href: string; kind: string; size: number | null; modified: string | null }[];
}

/** The JSON variant of the listing at `url`. */
async function listingJson(url: string): Promise<ListingJson> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
  return (await response.json()) as ListingJson;
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_match, name: string) =>
    ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name]!);
}

/** The links of a listing page, as a browser would read them (attribute and text unescaped). */
function links(page: string): Link[] {
  return [...page.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map((match) => ({
    href: unescapeHtml(match[1]!),
    text: unescapeHtml(match[2]!),
  }));
}

test('hostile names are escaped in the page, and every href leads back to its own file', async (t) => {
  const root = fixture(t);
  for (const name of HOSTILE) writeFileSync(join(root, name), `content of ${name}`);
  mkdirSync(join(root, HOSTILE_DIR));
  writeFileSync(join(root, HOSTILE_DIR, 'inner.txt'), 'inner');
  const { url } = await serveListing(t, root);

  const response = await fetch(`${url}/`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
  const page = await response.text();

  // No markup from a name reaches the page: no script, no img, no stray quote closing an attribute.
  assert.doesNotMatch(page, /<script/i);
  assert.doesNotMatch(page, /<img/i);
  assert.doesNotMatch(page, /<b>/);
  assert.match(page, /&lt;script&gt;alert\(1\)&lt;/);
  assert.match(page, /a&quot;b&#39;c\.txt/);
  assert.match(page, /a&amp;b&amp;amp;\.txt/);

  const found = links(page);
  for (const name of [...HOSTILE, HOSTILE_DIR]) {
    const isDirectory = name === HOSTILE_DIR;
    const link = found.find((candidate) => candidate.text === (isDirectory ? `${name}/` : name));
    assert.ok(link, `no link shows ${JSON.stringify(name)}`);
    const href = isDirectory ? link.href.slice(0, -1) : link.href;
    if (isDirectory) assert.ok(link.href.endsWith('/'), 'a directory link ends with /');
    assert.equal(decodeURIComponent(href), name);
    // Relative, a single path segment: nothing in the name became a scheme, a query or a fragment.
    assert.doesNotMatch(href, /[/?#:]/);
    const target = new URL(link.href, `${url}/`);
    assert.equal(target.search, '');
    assert.equal(target.hash, '');
    assert.equal(target.origin, url);

    // And the server, given the URL a browser would build, finds that very entry.
    const followed = await fetch(target);
    assert.equal(followed.status, 200, name);
    if (isDirectory) assert.match(await followed.text(), /inner\.txt/);
    else assert.equal(await followed.text(), `content of ${name}`);
  }
});

test('directories come first, then files, each sorted by name; sizes and dates are shown', async (t) => {
  const root = fixture(t);
  const when = new Date('2026-01-02T03:04:05.000Z');
  for (const name of ['b.txt', 'A.txt', 'a.txt', '10.txt', '9.txt']) writeFileSync(join(root, name), 'x');
  writeFileSync(join(root, 'big.bin'), Buffer.alloc(1536));
  for (const name of ['zeta', 'alpha']) mkdirSync(join(root, name));
  utimesSync(join(root, 'big.bin'), when, when);
  const { url } = await serveListing(t, root);

  const page = await (await fetch(`${url}/`)).text();
  assert.deepEqual(links(page).map((link) => link.text), ['alpha/', 'zeta/', '10.txt', '9.txt', 'A.txt', 'a.txt', 'b.txt', 'big.bin']);
  assert.match(page, /<span title="1536 bytes">1\.5 KiB<\/span>/);
  assert.match(page, /<time datetime="2026-01-02T03:04:05\.000Z">2026-01-02 03:04<\/time>/);
});

test('the page has a title, and a parent link everywhere but at /', async (t) => {
  const root = fixture(t);
  mkdirSync(join(root, 'sub dir'));
  mkdirSync(join(root, '%41 <i>'));
  const { url } = await serveListing(t, root);

  const top = await (await fetch(`${url}/`)).text();
  assert.match(top, /<title>Index of \/<\/title>/);
  assert.ok(!links(top).some((link) => link.href === '../'));

  const below = await (await fetch(`${url}/sub%20dir/`)).text();
  assert.match(below, /<title>Index of \/sub dir\/<\/title>/);
  assert.deepEqual(links(below)[0], { href: '../', text: '../' });

  // The title shows the name exactly: escaped, and decoded once only.
  const odd = await fetch(`${url}/${encodeURIComponent('%41 <i>')}/`);
  assert.match(await odd.text(), /<title>Index of \/%41 &lt;i&gt;\/<\/title>/);
  const oddJson = await listingJson(`${url}/${encodeURIComponent('%41 <i>')}/`);
  assert.equal(oddJson.path, '/%2541%20%3Ci%3E/');
});

test('the page forbids scripts (CSP), sniffing and shared caching across variants', async (t) => {
  const root = fixture(t);
  const { url } = await serveListing(t, root);
  for (const accept of ['text/html', 'application/json']) {
    const response = await fetch(`${url}/`, { headers: { accept } });
    assert.equal(response.headers.get('content-security-policy'), "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'");
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('vary'), 'Accept');
  }
});

test('dotfiles are hidden unless asked for', async (t) => {
  const root = fixture(t);
  writeFileSync(join(root, '.secret'), 's');
  mkdirSync(join(root, '.git'));
  writeFileSync(join(root, 'visible'), 'v');

  const hidden = await serveListing(t, root, false);
  const hiddenJson = await listingJson(`${hidden.url}/`);
  assert.deepEqual(hiddenJson.entries.map((entry) => entry.name), ['visible']);
  const hiddenPage = await (await fetch(`${hidden.url}/`)).text();
  assert.doesNotMatch(hiddenPage, /secret|\.git/);

  const shown = await serveListing(t, root, true);
  const shownJson = await listingJson(`${shown.url}/`);
  assert.deepEqual(shownJson.entries.map((entry) => entry.name), ['.git', '.secret', 'visible']);
});

test('JSON when Accept prefers application/json, HTML otherwise', async (t) => {
  const root = fixture(t);
  const when = new Date('2025-06-07T08:09:10.000Z');
  writeFileSync(join(root, 'f #1.txt'), 'hello');
  utimesSync(join(root, 'f #1.txt'), when, when);
  mkdirSync(join(root, 'd'));
  mkdirSync(join(root, 'd', 'e'));
  const { url, port } = await serveListing(t, root);

  const cases: [string | undefined, string][] = [
    ['application/json', 'application/json'],
    ['text/html;q=0.9, application/json', 'application/json'],
    ['text/html, application/json', 'text/html'], // a tie goes to the page
    ['application/json;q=0.5, */*', 'text/html'],
    ['*/*', 'text/html'],
    ['image/png', 'text/html'], // nothing acceptable: the page rather than a 406
    [undefined, 'text/html'],
  ];
  for (const [accept, expected] of cases) {
    // fetch always sends an Accept, so a request without one is written by hand.
    const type = accept === undefined
      ? (await ask(port, '/')).headers['content-type']
      : (await fetch(`${url}/`, { headers: { accept } })).headers.get('content-type');
    assert.equal(type?.split(';')[0], expected, `Accept: ${accept}`);
  }

  const body = await listingJson(`${url}/`);
  assert.deepEqual(body, {
    path: '/',
    truncated: false,
    entries: [
      { name: 'd', href: 'd/', kind: 'directory', size: null, modified: body.entries[0]!.modified },
      { name: 'f #1.txt', href: 'f%20%231.txt', kind: 'file', size: 5, modified: when.toISOString() },
    ],
  });
  assert.ok(!Number.isNaN(Date.parse(body.entries[0]!.modified!)));

  const nested = await listingJson(`${url}/d/`);
  assert.equal(nested.path, '/d/');
  assert.deepEqual(nested.entries.map((entry) => entry.href), ['e/']);
});

test(`a directory with more than ${MAX_LISTING_ENTRIES} entries is listed up to the cap, and the page says so`, async (t) => {
  const root = fixture(t);
  for (let index = 0; index <= MAX_LISTING_ENTRIES; index += 1) writeFileSync(join(root, `f${index}`), '');
  const { url } = await serveListing(t, root);

  const body = await listingJson(`${url}/`);
  assert.equal(body.truncated, true);
  assert.equal(body.entries.length, MAX_LISTING_ENTRIES);
  const page = await (await fetch(`${url}/`)).text();
  assert.match(page, /more than 10,000 entries; only the first 10,000 read are listed/);

  // At exactly the cap nothing is missing, so nothing is said.
  rmSync(join(root, 'f0'));
  const full = await listingJson(`${url}/`);
  assert.equal(full.truncated, false);
  assert.equal(full.entries.length, MAX_LISTING_ENTRIES);
});

test('entriesResponse renders entries gathered elsewhere, escaped, in the order given', async (t) => {
  const entries: ListingEntry[] = [
    { name: 'zz <mount>', href: `${encodeURIComponent('zz <mount>')}/`, kind: 'directory', size: undefined, modified: undefined },
    { name: 'aa&"', href: encodeURIComponent('aa&"'), kind: 'file', size: 3, modified: new Date(0) },
  ];
  const { url } = await serve(t, (request) => entriesResponse(request, '/', entries));

  const page = await (await fetch(`${url}/`)).text();
  assert.deepEqual(links(page), [
    { href: 'zz%20%3Cmount%3E/', text: 'zz <mount>/' },
    { href: 'aa%26%22', text: 'aa&"' },
  ]);
  assert.doesNotMatch(page, /<mount>/);

  const body = await listingJson(`${url}/`);
  assert.deepEqual(body.entries, [
    { name: 'zz <mount>', href: 'zz%20%3Cmount%3E/', kind: 'directory', size: null, modified: null },
    { name: 'aa&"', href: 'aa%26%22', kind: 'file', size: 3, modified: '1970-01-01T00:00:00.000Z' },
  ]);
});

test('a directory that is gone by the time it is listed answers 404, not 500', async (t) => {
  const root = fixture(t);
  writeFileSync(join(root, 'file'), 'x');
  const { url } = await serveListing(t, root);
  assert.equal((await fetch(`${url}/missing/`)).status, 404);
  assert.equal((await fetch(`${url}/file/`)).status, 404);
});
