/**
 * The URLs `httpserver` prints once it listens. `0.0.0.0` and `::` are not
 * addresses anyone can type: the first line then names the loopback address,
 * and the lines after it the addresses other machines on the network (the
 * students' laptops) can reach it at.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export interface ListenerUrls {
  /** The URL to open on this machine. */
  local: string;
  /** For a wildcard host, the URLs of this machine's network addresses (possibly none); otherwise undefined. */
  network: string[] | undefined;
}

export function listenerUrls(scheme: string, host: string, port: number): ListenerUrls {
  const url = (address: string) => `${scheme}://${address.includes(':') ? `[${address}]` : address}:${port}/`;
  if (host === '0.0.0.0') return { local: url('127.0.0.1'), network: networkAddresses(false).map(url) };
  if (host === '::') return { local: url('::1'), network: networkAddresses(true).map(url) };
  return { local: url(host), network: undefined };
}

/**
 * The non-internal IPv4 addresses of this machine and, when `ipv6`, its
 * IPv6 ones too, except link-local ones (`fe80::`): those need a zone
 * (`%eth0`) that browsers do not accept in a URL.
 */
export function networkAddresses(ipv6: boolean): string[] {
  const wanted = (info: NetworkInterfaceInfo) => !info.internal &&
    (info.family === 'IPv4' || (ipv6 && info.family === 'IPv6' && !/^fe[89ab]/i.test(info.address)));
  const addresses = Object.values(networkInterfaces()).flatMap((infos) => (infos ?? []).filter(wanted));
  return [...new Set(addresses.map((info) => info.address))];
}

/** The lines printed after "Serving ... at URL" for a wildcard host. */
export function describeNetwork(network: string[]): string {
  if (network.length === 0) return 'No network address besides loopback: other machines cannot reach this one yet.\n';
  return `On the network (other machines type one of these):\n${network.map((url) => `  ${url}\n`).join('')}`;
}
