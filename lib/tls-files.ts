import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ValueError } from './errors.js';

/** PEM text (string or Buffer) or the path of a PEM file. */
export type PemSource = string | Buffer;

/** How the messages name the certificate and the key: the option by default, a flag for the CLI. */
export interface TlsLabels {
  cert: string;
  key: string;
}

const OPTION_LABELS: TlsLabels = { cert: 'The "options.tls.cert" option', key: 'The "options.tls.key" option' };

/**
 * Reads `tls.cert` and `tls.key` (PEM text is used as is, anything else is a
 * file path) and checks them before Node's TLS layer sees them: its own
 * errors ("error:0480006C:PEM routines::no start line") name neither the
 * file nor the fix. Each failure is a `ValueError` (`ERR_INVALID_ARG_VALUE`)
 * naming the file and the problem: not found, not readable, not a PEM
 * certificate, not a PEM private key, or a key that does not match the
 * certificate. A file that could not be read keeps the system error as `cause`.
 *
 * @example
 * await loadTls({ cert: 'cert.pem', key: 'key.pem' }, { cert: '--tls-cert', key: '--tls-key' });
 */
export async function loadTls(
  tls: { cert: PemSource; key: PemSource }, labels: TlsLabels = OPTION_LABELS,
): Promise<{ cert: Buffer | string; key: Buffer | string }> {
  const [cert, key] = await Promise.all([readPem(tls.cert, labels.cert), readPem(tls.key, labels.key)]);
  const certificate = parse(cert, () => new X509Certificate(cert.pem), 'CERTIFICATE', 'a PEM certificate');
  const privateKey = parse(key, () => createPrivateKey(key.pem), 'PRIVATE KEY', 'a PEM private key (without a passphrase)');
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ValueError(`${key.label} does not match the certificate ${cert.what}: they are not a pair.`);
  }
  return { cert: cert.pem, key: key.pem };
}

/** What was read, and how messages name it. */
interface Pem {
  pem: Buffer | string;
  /** The label followed by the quoted file name; the label alone for PEM text. */
  label: string;
  /** The quoted file name, or "(PEM text)". */
  what: string;
}

async function readPem(source: PemSource, label: string): Promise<Pem> {
  if (Buffer.isBuffer(source) || source.includes('-----BEGIN')) return { pem: source, label, what: '(PEM text)' };
  const what = `'${source}'`;
  try {
    return { pem: await readFile(source), label: `${label} ${what}`, what };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'was not found'
      : code === 'EACCES' || code === 'EPERM' ? 'is not readable (permission denied)'
        : code === 'EISDIR' ? 'is a directory, not a file'
          : `cannot be read (${(error as Error).message})`;
    throw Object.assign(new ValueError(`${label} ${what} ${problem}.`), { cause: error });
  }
}

/** `read()`'s result, or a ValueError saying the text is not the `kind` of PEM block asked for, and why. */
function parse<T>(pem: Pem, read: () => T, block: string, kind: string): T {
  const found = new RegExp(`-----BEGIN ([A-Z ]*${block})-----`).exec(pem.pem.toString('latin1'));
  if (found === null) {
    throw new ValueError(`${pem.label} is not ${kind}: it has no "-----BEGIN ${block}-----" line.`);
  }
  try {
    return read();
  } catch (error) {
    throw new ValueError(`${pem.label} is not ${kind}: its "${found[1]}" block does not parse (${(error as Error).message}).`);
  }
}
