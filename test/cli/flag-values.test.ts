/**
 * The flag values of lib/cli/flag-values.ts: certificates for `run` and
 * `serve` as real child processes (HTTPS that a client verifies, and a
 * message naming the file for each way a certificate can be wrong), and
 * the sizes `--max-upload` accepts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseSize } from '../../lib/cli/flag-values.js';
import { UsageError } from '../../lib/cli/shared.js';
import { makeCertificate } from '../support.js';
import { exitWithin, run } from '../support-process.js';

const pair = makeCertificate();
const other = makeCertificate();

/** A directory with a script, the certificate, its key, another key and a text file. */
function fixture(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'seattle-cli-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.mjs'), "export default (request) => ({ statuscode: 200, message: 'secure ' + request.path });\n");
  writeFileSync(join(dir, 'cert.pem'), pair.cert);
  writeFileSync(join(dir, 'key.pem'), pair.key);
  writeFileSync(join(dir, 'other-key.pem'), other.key);
  writeFileSync(join(dir, 'notes.txt'), 'just text\n');
  return dir;
}

/** GET over HTTPS trusting exactly `ca`: the certificate is verified, not merely used. */
function httpsBody(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; }).on('end', () => resolve(text));
    }).on('error', reject);
  });
}

test('run --tls-cert --tls-key serves HTTPS and prints an https:// URL', async (t) => {
  const dir = fixture(t);
  const server = run(t, ['run', 'app.mjs', '--port', '0', '--tls-cert', 'cert.pem', '--tls-key', 'key.pem'], undefined, dir);
  const [, url] = await server.waitForStdout(/^Serving app\.mjs at (https:\/\/127\.0\.0\.1:\d+\/)$/m);
  assert.equal(await httpsBody(`${url}there`, pair.cert), 'secure /there');
  await server.waitForStdout(/"GET \/there HTTP\/1\.1" 200 13 /);
  server.child.kill('SIGINT');
  assert.equal(await exitWithin(server), 0);
  assert.equal(server.stderr(), '');
});

test('run and serve: a certificate problem names the flag, the file and what is wrong', async (t) => {
  const dir = fixture(t);
  const cases: Array<[string[], number, string]> = [
    [['--tls-cert', 'cert.pem'], 2, '--tls-cert and --tls-key go together'],
    [['--tls-key', 'key.pem'], 2, '--tls-cert and --tls-key go together'],
    [['--tls-cert', 'missing.pem', '--tls-key', 'key.pem'], 2, "--tls-cert 'missing.pem' was not found."],
    [['--tls-cert', 'cert.pem', '--tls-key', '.'], 2, "--tls-key '.' is a directory, not a file."],
    [['--tls-cert', 'notes.txt', '--tls-key', 'key.pem'], 1,
      "--tls-cert 'notes.txt' is not a PEM certificate: it has no \"-----BEGIN CERTIFICATE-----\" line."],
    [['--tls-cert', 'key.pem', '--tls-key', 'cert.pem'], 1,
      "--tls-cert 'key.pem' is not a PEM certificate: it has no \"-----BEGIN CERTIFICATE-----\" line."],
    [['--tls-cert', 'cert.pem', '--tls-key', 'notes.txt'], 1,
      "--tls-key 'notes.txt' is not a PEM private key (without a passphrase): it has no \"-----BEGIN PRIVATE KEY-----\" line."],
    [['--tls-cert', 'cert.pem', '--tls-key', 'other-key.pem'], 1,
      "--tls-key 'other-key.pem' does not match the certificate 'cert.pem': they are not a pair."],
  ];
  for (const command of [['run', 'app.mjs'], ['serve', '.']]) {
    for (const [flags, code, message] of cases) {
      const name = `httpserver ${[...command, ...flags].join(' ')}`;
      const failing = run(t, [...command, ...flags, '--port', '0'], undefined, dir);
      assert.equal(await exitWithin(failing), code, name);
      const usage = code === 2 ? `Run 'httpserver ${command[0]} --help' for usage.\n` : '';
      assert.equal(failing.stderr(), `httpserver ${command[0]}: ${message}\n${usage}`, name);
      assert.equal(failing.stdout(), '', name);
    }
  }
});

test('--max-upload sizes: bytes, K, M and G (powers of 1024), an optional B, any case', () => {
  const cases: Array<[string, number]> = [
    ['1', 1], ['1000', 1000], ['512K', 512 * 1024], ['10M', 10 * 1024 ** 2], ['1G', 1024 ** 3], ['10m', 10 * 1024 ** 2], ['64MB', 64 * 1024 ** 2],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize('--max-upload', text), bytes, text);
  for (const text of ['0', '1T', '1.5M', 'ten', '-1', '']) assert.throws(() => parseSize('--max-upload', text), UsageError, text);
});
