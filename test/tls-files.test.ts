/**
 * Reading `tls: { cert, key }` (lib/tls-files.ts): PEM text is used as is,
 * anything else is a file, and every way a certificate or key can be wrong
 * is a ValueError that names the file and the problem, from `loadTls` and
 * from `registerCallback` alike.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ValueError, registerCallback } from '../lib/index.js';
import { loadTls } from '../lib/tls-files.js';
import { makeCertificate } from './support.js';

const pair = makeCertificate();
const other = makeCertificate();

/** The two certificates and their keys as files, and a few files that are not what they claim. */
function files(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'seattle-tls files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => { writeFileSync(join(dir, name), text); return join(dir, name); };
  mkdirSync(join(dir, 'a directory.pem'));
  return {
    cert: write('cert.pem', pair.cert),
    key: write('key.pem', pair.key),
    otherKey: write('other-key.pem', other.key),
    notes: write('notes.txt', 'not a certificate\n'),
    truncated: write('truncated.pem', pair.cert.slice(0, 200)),
    missing: join(dir, 'missing.pem'),
    directory: join(dir, 'a directory.pem'),
  };
}

test('loadTls keeps PEM text and Buffers as they are and reads paths', async (t) => {
  const paths = files(t);
  assert.deepEqual(await loadTls({ cert: pair.cert, key: Buffer.from(pair.key) }), { cert: pair.cert, key: Buffer.from(pair.key) });
  const loaded = await loadTls({ cert: paths.cert, key: paths.key });
  assert.equal(loaded.cert.toString(), pair.cert);
  assert.equal(loaded.key.toString(), pair.key);
});

test('loadTls: each problem is a ValueError (ERR_INVALID_ARG_VALUE) naming the file and what is wrong', async (t) => {
  const paths = files(t);
  const cases: Array<[{ cert: string | Buffer; key: string | Buffer }, string]> = [
    [{ cert: paths.missing, key: paths.key }, `The "options.tls.cert" option '${paths.missing}' was not found.`],
    [{ cert: paths.cert, key: paths.directory }, `The "options.tls.key" option '${paths.directory}' is a directory, not a file.`],
    [{ cert: paths.notes, key: paths.key },
      `The "options.tls.cert" option '${paths.notes}' is not a PEM certificate: it has no "-----BEGIN CERTIFICATE-----" line.`],
    [{ cert: paths.key, key: paths.cert },
      `The "options.tls.cert" option '${paths.key}' is not a PEM certificate: it has no "-----BEGIN CERTIFICATE-----" line.`],
    [{ cert: paths.cert, key: paths.cert },
      `The "options.tls.key" option '${paths.cert}' is not a PEM private key (without a passphrase): it has no "-----BEGIN PRIVATE KEY-----" line.`],
    [{ cert: paths.cert, key: paths.otherKey },
      `The "options.tls.key" option '${paths.otherKey}' does not match the certificate '${paths.cert}': they are not a pair.`],
    [{ cert: pair.cert, key: other.key }, 'The "options.tls.key" option does not match the certificate (PEM text): they are not a pair.'],
  ];
  for (const [tls, message] of cases) {
    await assert.rejects(loadTls(tls), (error: Error & { code?: string }) => {
      assert.ok(error instanceof ValueError, message);
      assert.equal(error.code, 'ERR_INVALID_ARG_VALUE');
      assert.equal(error.message, message);
      return true;
    });
  }
  // A block that is there but broken says so, with OpenSSL's reason after it.
  await assert.rejects(loadTls({ cert: paths.truncated, key: paths.key }),
    new RegExp(`^ValueError: The "options\\.tls\\.cert" option '${paths.truncated}' is not a PEM certificate: its "CERTIFICATE" block does not parse \\(.+\\)\\.$`));
  // The system's error stays as the cause.
  await assert.rejects(loadTls({ cert: paths.missing, key: paths.key }), (error: Error) => (error.cause as NodeJS.ErrnoException).code === 'ENOENT');
});

test('loadTls: the messages can name the command line\'s flags instead of the option', async (t) => {
  const paths = files(t);
  await assert.rejects(loadTls({ cert: paths.missing, key: paths.key }, { cert: '--tls-cert', key: '--tls-key' }),
    { message: `--tls-cert '${paths.missing}' was not found.` });
});

test('registerCallback with a certificate that is not one rejects with the ValueError', async (t) => {
  const paths = files(t);
  await assert.rejects(
    registerCallback(['127.0.0.1', 0], () => ({ statuscode: 200 }), { tls: { cert: paths.notes, key: paths.key } }),
    { name: 'ValueError', code: 'ERR_INVALID_ARG_VALUE', message: new RegExp(`'${paths.notes}' is not a PEM certificate`) },
  );
});
