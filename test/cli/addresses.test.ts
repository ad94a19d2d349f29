/**
 * What `httpserver serve` and `run` print for a wildcard host
 * (lib/cli/addresses.ts): the loopback URL first, then the addresses other
 * machines can type, which this test works out from os.networkInterfaces()
 * itself (the machine may have loopback only) and then asks over each.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { exitWithin, run, type Running } from '../support-process.js';

function fixture(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'seattle-lan-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'hello.txt'), 'hello over the network\n');
  writeFileSync(join(dir, 'app.mjs'), "export default () => ({ statuscode: 200, message: 'hello over the network\\n' });\n");
  return dir;
}

/** The addresses a student could type: non-internal IPv4 and, for `::`, IPv6 that is not link-local. */
function expectedAddresses(ipv6: boolean): string[] {
  const addresses: string[] = [];
  for (const infos of Object.values(networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv4') addresses.push(info.address);
      else if (ipv6 && !info.address.toLowerCase().startsWith('fe80:')) addresses.push(`[${info.address}]`);
    }
  }
  return [...new Set(addresses)];
}

/** The start-up lines, once all of them are printed (the process is stopped to be sure). */
async function startupLines(server: Running, loopback: string): Promise<{ port: string; lines: string[] }> {
  const [, port] = await server.waitForStdout(new RegExp(`^Serving .+ at http://${loopback.replace(/[[\]]/g, '\\$&')}:(\\d+)/$`, 'm'));
  return { port: port!, lines: server.stdout().split('\n') };
}

for (const [host, loopback, ipv6] of [['0.0.0.0', '127.0.0.1', false], ['::', '[::1]', true]] as const) {
  for (const command of ['serve', 'run'] as const) {
    test(`${command} --host ${host} prints the loopback URL, then the network addresses, each of which answers`, async (t) => {
      const dir = fixture(t);
      const args = command === 'serve' ? ['serve', '.'] : ['run', 'app.mjs'];
      const server = run(t, [...args, '--host', host, '--port', '0'], undefined, dir);
      const { port, lines } = await startupLines(server, loopback);
      const expected = expectedAddresses(ipv6).map((address) => `http://${address}:${port}/`);
      const after = lines.slice(1, expected.length === 0 ? 2 : expected.length + 2);
      assert.deepEqual(after, expected.length === 0
        ? ['No network address besides loopback: other machines cannot reach this one yet.']
        : ['On the network (other machines type one of these):', ...expected.map((url) => `  ${url}`)]);

      const path = command === 'serve' ? 'hello.txt' : '';
      for (const url of [`http://${loopback}:${port}/`, ...expected]) {
        const response = await fetch(`${url}${path}`);
        assert.equal(response.status, 200, url);
        assert.equal(await response.text(), 'hello over the network\n', url);
      }
      server.child.kill('SIGINT');
      assert.equal(await exitWithin(server), 0);
    });
  }
}

test('a named host prints its own URL and no network lines', async (t) => {
  const server = run(t, ['serve', fixture(t), '--host', '127.0.0.1', '--port', '0']);
  await server.waitForStdout(/^Serving .+ at http:\/\/127\.0\.0\.1:\d+\/$/m);
  server.child.kill('SIGINT');
  assert.equal(await exitWithin(server), 0);
  assert.match(server.stdout(), /^Serving .+ at http:\/\/127\.0\.0\.1:\d+\/\n$/);
});
