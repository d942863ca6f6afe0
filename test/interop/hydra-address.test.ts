// Which address a rank started by Hydra advertises to its peers (src/runtime/pmi1.ts hydraAdvertiseHost).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { HYDRA_HOSTNAME, HYDRA_IFACE, hydraAdvertiseHost } from '../../src/runtime/pmi1.js';
import { defaultAdvertiseHost, firstLocalAddress, interfaceAddress } from '../../src/runtime/host.js';

function address(family: 'IPv4' | 'IPv6', addr: string, internal = false): NetworkInterfaceInfo {
  const common = { address: addr, netmask: '', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...common, family } : { ...common, family, scopeid: 0 };
}

const FAKE: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  lo: [address('IPv4', '127.0.0.1', true)],
  docker0: [address('IPv4', '172.17.0.1')],
  eth0: [address('IPv6', 'fe80::1'), address('IPv4', '10.77.0.2'), address('IPv6', 'fd77::2')],
  ib0: [address('IPv6', 'fe80::2'), address('IPv6', 'fd00::9')],
  tun0: [address('IPv6', 'fe80::3')],
};

test('interfaceAddress: the IPv4 address of the interface, else its global IPv6 one', () => {
  assert.equal(interfaceAddress('eth0', 'X', FAKE), '10.77.0.2');
  assert.equal(interfaceAddress('ib0', 'X', FAKE), 'fd00::9');
});

test('interfaceAddress: an interface with only link-local addresses is refused, naming where its name came from', () => {
  assert.throws(() => interfaceAddress('tun0', 'IFACE_VAR', FAKE), /^JobError: IFACE_VAR="tun0": interface tun0 of host \S+ has no IPv4 or global IPv6 address$/);
});

test('interfaceAddress: a name no interface has is refused, listing the interfaces there are', () => {
  assert.throws(() => interfaceAddress('eth9', 'IFACE_VAR', FAKE),
    /^JobError: IFACE_VAR="eth9" names no network interface of host \S+; it has: lo, docker0, eth0, ib0, tun0$/);
});

test('firstLocalAddress: the first candidate that is a non-loopback address of this host', () => {
  assert.equal(firstLocalAddress(['127.0.0.1', '192.0.2.7', '10.77.0.2', '172.17.0.1'], FAKE), '10.77.0.2');
  assert.equal(firstLocalAddress(['127.0.1.1', '192.0.2.7'], FAKE), null);
});

test('under Hydra: -iface names the interface whose address is advertised', async () => {
  assert.equal(await hydraAdvertiseHost({ [HYDRA_IFACE]: 'lo' }), '127.0.0.1');
});

test('under Hydra: an -iface this host lacks is an error naming the variable and the option', async () => {
  await assert.rejects(hydraAdvertiseHost({ [HYDRA_IFACE]: 'nosuch0' }),
    /^JobError: MPIR_CVAR_NEMESIS_TCP_NETWORK_IFACE \(mpiexec -iface\)="nosuch0" names no network interface of host \S+; it has: /);
});

test('under Hydra: MPI4TS_HOST_ADDRESS wins over what Hydra says', async () => {
  assert.equal(await hydraAdvertiseHost({ MPI4TS_HOST_ADDRESS: '192.0.2.1', [HYDRA_IFACE]: 'nosuch0', [HYDRA_HOSTNAME]: 'localhost' }), '192.0.2.1');
});

test('under Hydra: the host list\'s name is used when it is an address of this host', async (t) => {
  const own = Object.values(networkInterfaces()).flat().find((a) => a !== undefined && !a.internal && a.family === 'IPv4');
  if (own === undefined) return t.skip('this host has no non-loopback IPv4 address');
  assert.equal(await hydraAdvertiseHost({ [HYDRA_HOSTNAME]: own.address }), own.address);
});

test('under Hydra: a host-list name that is loopback, unknown or not this host\'s falls back to the default', async () => {
  for (const name of ['127.0.0.1', 'localhost', 'no-such-host.invalid', '192.0.2.7']) {
    assert.equal(await hydraAdvertiseHost({ [HYDRA_HOSTNAME]: name }), defaultAdvertiseHost({}), name);
  }
});
