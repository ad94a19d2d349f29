/**
 * A real browser against serveDirectory: Debian's chromium driven by
 * playwright-core (no browser download). Install it with
 * scripts/install-test-tools.sh; without it this test fails rather than skips,
 * so a missing browser is never mistaken for a pass.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { serveDirectory } from '../../lib/index.js';
import { serve } from '../support.js';

const CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, self-contained headless run: no GPU, no sandbox (we run as root), no calls home. */
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function tempDir(t: TestContext, prefix: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function launch(t: TestContext): Promise<BrowserContext> {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: run scripts/install-test-tools.sh (as root) to install Debian's chromium for this test.`,
  );
  // A fresh profile each run (playwright passes it as --user-data-dir): nothing cached from an earlier run.
  const profile = realpathSync(mkdtempSync(join(tmpdir(), 'seattle-chromium-')));
  let context: BrowserContext | undefined;
  // One hook, in this order: chromium writes to its profile while it shuts down.
  t.after(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    acceptDownloads: true,
    timeout: 30_000,
  });
  return context;
}

test('a browser opens the listing, follows a folder link and downloads a file byte for byte', async (t) => {
  const root = tempDir(t, 'seattle-browser-');
  const hostile = '<img src=x onerror=alert(1)>.txt';
  const payload = randomBytes(256 * 1024 + 17);
  mkdirSync(join(root, 'docs & data'));
  writeFileSync(join(root, 'docs & data', 'payload ü #1.bin'), payload);
  writeFileSync(join(root, 'docs & data', 'notes.txt'), 'notes\n');
  writeFileSync(join(root, hostile), 'harmless\n');
  const { url } = await serve(t, serveDirectory({ root, list: true }));

  const context = await launch(t);
  const page = await context.newPage();
  const dialogs: string[] = [];
  const problems: string[] = [];
  page.on('dialog', (dialog) => { dialogs.push(dialog.message()); void dialog.dismiss(); });
  // A CSP violation is reported on the console as an error; failed loads are checked by status below.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  page.on('response', (response) => {
    // A text file shown in a tab makes the browser ask for /favicon.ico, which the fixture lacks.
    if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico') {
      problems.push(`${response.status()} ${response.url()}`);
    }
  });
  page.on('pageerror', (error) => { problems.push(error.message); });

  await page.goto(`${url}/`);
  assert.equal(await page.title(), 'Index of /');
  // The hostile name is a link's text, not markup: nothing ran, no image was made.
  assert.equal(await page.locator('a', { hasText: 'onerror' }).textContent(), hostile);
  assert.equal(await page.locator('img').count(), 0);
  // The inline style is allowed by the CSP: the table is laid out as styled.
  assert.equal(await page.evaluate('getComputedStyle(document.querySelector("table")).borderCollapse'), 'collapse');

  await Promise.all([
    page.waitForURL(`${url}/docs%20%26%20data/`),
    page.getByRole('link', { name: 'docs & data/' }).click(),
  ]);
  assert.equal(await page.title(), 'Index of /docs & data/');
  assert.deepEqual(await page.locator('td.name a').allTextContents(), ['../', 'notes.txt', 'payload ü #1.bin']);

  // Clicking a file the browser cannot display (application/octet-stream) downloads it.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'payload ü #1.bin' }).click(),
  ]);
  assert.equal(download.url(), `${url}/docs%20%26%20data/payload%20%C3%BC%20%231.bin`);
  assert.equal(await download.failure(), null);
  const saved = readFileSync(await download.path());
  assert.equal(saved.length, payload.length);
  assert.ok(saved.equals(payload), 'the downloaded bytes are the file\'s bytes');

  // Nothing so far broke the page's CSP or ran a script.
  assert.deepEqual(dialogs, []);
  assert.deepEqual(problems, []);

  // A script fetches it too. Not from the listing, whose CSP (default-src 'none') forbids
  // any connection, but from a plain file of the same origin, which has no such policy.
  await page.goto(`${url}/docs%20%26%20data/notes.txt`);
  assert.equal(await page.locator('body').textContent(), 'notes\n');
  const fetched = await page.evaluate(async (href) => {
    const response = await fetch(href);
    const bytes = new Uint8Array(await response.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { status: response.status, type: response.headers.get('content-type'), base64: btoa(binary) };
  }, encodeURIComponent('payload ü #1.bin'));
  assert.equal(fetched.status, 200);
  assert.equal(fetched.type, 'application/octet-stream');
  assert.ok(Buffer.from(fetched.base64, 'base64').equals(payload), 'the fetched bytes are the file\'s bytes');
  assert.deepEqual(problems, []);
});

test('a browser uploads through the listing\'s form: the file lands byte for byte and is listed after the redirect', async (t) => {
  const root = tempDir(t, 'seattle-browser-upload-');
  mkdirSync(join(root, 'in box'));
  writeFileSync(join(root, 'in box', 'existing.txt'), 'already here\n');
  const payload = randomBytes(300 * 1024 + 5);
  const name = 'upload ü & co #1.bin';
  const { url } = await serve(t, serveDirectory({ root, list: true, upload: { dir: root } }));

  const context = await launch(t);
  const page = await context.newPage();
  const problems: string[] = [];
  // A CSP that forbade the form's POST would be reported on the console.
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  page.on('pageerror', (error) => { problems.push(error.message); });
  const posts: number[] = [];
  page.on('response', (response) => { if (response.request().method() === 'POST') posts.push(response.status()); });

  await page.goto(`${url}/in%20box/`);
  assert.equal(await page.locator('form.upload').count(), 1);
  await page.setInputFiles('form.upload input[type=file]', [
    { name, mimeType: 'application/octet-stream', buffer: payload },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('two files at once\n') },
  ]);
  await Promise.all([
    page.waitForURL(`${url}/in%20box/`, { waitUntil: 'load' }),
    page.locator('form.upload button[type=submit]').click(),
  ]);
  assert.deepEqual(posts, [303], 'one POST, answered with 303 See Other');
  const onDisk = readFileSync(join(root, 'in box', name));
  assert.equal(onDisk.length, payload.length);
  assert.ok(onDisk.equals(payload), 'the stored bytes are the chosen file\'s bytes');
  assert.equal(readFileSync(join(root, 'in box', 'notes.txt'), 'utf8'), 'two files at once\n');
  assert.equal(await page.title(), 'Index of /in box/');
  assert.deepEqual(await page.locator('td.name a').allTextContents(), ['../', 'existing.txt', 'notes.txt', name]);
  assert.deepEqual(problems, []);
});
