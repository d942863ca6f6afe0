/**
 * Which address the launcher's control server listens on, and which hosts of
 * a host list are this machine. Ranks dial the control address, and each rank
 * then listens on the local address that connection used (launcher-bootstrap.ts),
 * so choosing the control address with --iface or --net chooses the network
 * the whole job talks over (MPICH's -iface).
 */
import { BlockList, isIP } from 'node:net';
import { hostname, networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { UsageError } from '../base/index.js';

export interface NetworkChoice {
  /** --iface NAME */
  iface: string | null;
  /** --net CIDR */
  net: string | null;
}

/** True when `host` names this machine: localhost, its host name, or one of its addresses. */
export function isLocalHost(host: string): boolean {
  const name = host.toLowerCase();
  const own = hostname().toLowerCase();
  if (name === 'localhost' || name === own || name === own.split('.')[0]) return true;
  return allAddresses().some((a) => a.address.toLowerCase() === name);
}

/**
 * The control server's address: the one --iface or --net selects; loopback
 * when every rank is local; otherwise this host's first external IPv4 address.
 */
export function controlAddress(choice: NetworkChoice, everyRankLocal: boolean): string {
  if (choice.iface !== null) return addressOfInterface(choice.iface);
  if (choice.net !== null) return addressInNet(choice.net);
  if (everyRankLocal) return '127.0.0.1';
  const external = allAddresses().filter((a) => !a.internal);
  const v4 = external.find((a) => a.family === 'IPv4');
  const chosen = v4 ?? external.find((a) => !isLinkLocal(a));
  if (chosen === undefined) {
    throw new UsageError('this host has no network address other ranks could reach (only loopback); ' +
      'remote hosts need one, or choose it with --iface or --net');
  }
  return chosen.address;
}

function addressOfInterface(name: string): string {
  const interfaces = networkInterfaces();
  const addresses = interfaces[name];
  if (addresses === undefined) {
    throw new UsageError(`--iface "${name}": no such network interface here (interfaces: ${Object.keys(interfaces).join(', ')})`);
  }
  const chosen = addresses.find((a) => a.family === 'IPv4') ?? addresses.find((a) => !isLinkLocal(a));
  if (chosen === undefined) throw new UsageError(`--iface "${name}" has no IPv4 or global IPv6 address`);
  return chosen.address;
}

function addressInNet(cidr: string): string {
  const match = /^([0-9A-Fa-f.:]+)\/(\d{1,3})$/.exec(cidr);
  const family = match === null ? 0 : isIP(match[1]!);
  const prefix = Number(match?.[2]);
  if (match === null || family === 0 || prefix > (family === 4 ? 32 : 128)) {
    throw new UsageError(`--net "${cidr}" must be an address block like 10.1.0.0/16 or fd00::/64`);
  }
  const block = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  block.addSubnet(match[1]!, prefix, type);
  const chosen = allAddresses().find((a) => a.family === `IPv${family}` && block.check(a.address, type));
  if (chosen === undefined) {
    const mine = allAddresses().map((a) => a.address).join(', ');
    throw new UsageError(`--net "${cidr}": no address of this host is in it (addresses here: ${mine})`);
  }
  return chosen.address;
}

function allAddresses(): NetworkInterfaceInfo[] {
  return Object.values(networkInterfaces()).flatMap((list) => list ?? []);
}

function isLinkLocal(a: NetworkInterfaceInfo): boolean {
  return a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80');
}
