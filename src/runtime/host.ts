/** Who this host is, for choosing same-host transports. */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { createHash } from 'node:crypto';
import { JobError, optionsOf } from '../base/index.js';

function readOr(read: () => string, fallback: string): string {
  try {
    return read().trim();
  } catch {
    return fallback;
  }
}

/**
 * Two ranks may share a Unix socket or memory only on the same kernel, in
 * the same network namespace (abstract sockets are per namespace) and the
 * same pid namespace (peers are found by pid), so the id covers boot id,
 * both namespaces and host name.
 */
export function hostIdentity(): string {
  const boot = readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'), 'no-boot-id');
  const netns = readOr(() => readlinkSync('/proc/self/ns/net'), 'no-netns');
  // Pids name a process only within their pid namespace: a peer's pid (its shared-memory inbox under
  // /proc/<pid>, a direct write into its memory) means the same process only if the namespace is ours.
  const pidns = readOr(() => readlinkSync('/proc/self/ns/pid'), 'no-pidns');
  return createHash('sha256').update(`${boot}|${netns}|${pidns}|${hostname()}`).digest('hex').slice(0, 16);
}

export function processorName(): string {
  return hostname();
}

/**
 * An address of this host that other hosts can reach, for bootstraps that do
 * not learn one from a launcher connection: MPI4TS_HOST_ADDRESS, else the first
 * non-internal IPv4 address, else loopback (ranks of one host use Unix sockets anyway).
 */
export function defaultAdvertiseHost(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = optionsOf(env).hostAddress;
  if (chosen !== null) return chosen;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/**
 * The address other hosts reach this one at over interface `name`: its IPv4
 * address, else a global IPv6 one (link-local ones need a scope to be dialled).
 * `what` says where the name came from, for the error when it names no interface.
 */
export function interfaceAddress(name: string, what: string, interfaces = networkInterfaces()): string {
  const addresses = interfaces[name];
  if (addresses === undefined) {
    throw new JobError(`${what}="${name}" names no network interface of host ${hostname()}; it has: ${Object.keys(interfaces).join(', ')}`);
  }
  const usable = addresses.find((a) => a.family === 'IPv4') ?? addresses.find((a) => a.family === 'IPv6' && !a.address.startsWith('fe80:'));
  if (usable === undefined) throw new JobError(`${what}="${name}": interface ${name} of host ${hostname()} has no IPv4 or global IPv6 address`);
  return usable.address;
}

/** The first of `candidates` that is an address of one of this host's non-loopback interfaces, else null. */
export function firstLocalAddress(candidates: string[], interfaces = networkInterfaces()): string | null {
  const local = new Set(Object.values(interfaces).flatMap((list) => (list ?? []).filter((a) => !a.internal).map((a) => a.address)));
  return candidates.find((c) => local.has(c)) ?? null;
}
