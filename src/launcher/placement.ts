/**
 * Which rank runs on which host. As Open MPI: slot filling by default (fill
 * the first host's slots, then the next), or round robin over hosts with
 * `--map-by node`; more ranks than slots only with `--oversubscribe`, and
 * never more than a host's max_slots. `--ppn N` (MPICH) gives every host
 * N slots, whatever the host list says.
 */
import { UsageError } from '../base/index.js';
import type { HostEntry } from './hostfile.js';

export type MapBy = 'slot' | 'node';

export interface PlacementRequest {
  hosts: HostEntry[];
  /** Number of ranks; null means one per slot. */
  np: number | null;
  mapBy: MapBy;
  /** Ranks per host, overriding the slots of every host; null to use the slots. */
  ppn: number | null;
  oversubscribe: boolean;
}

/** The host of each rank, in rank order. */
export function placeRanks(request: PlacementRequest): string[] {
  const { hosts, mapBy } = request;
  if (hosts.length === 0) throw new UsageError('the host list is empty');
  const capacity = hosts.map((h) => request.ppn ?? h.slots);
  const totalSlots = capacity.reduce((a, b) => a + b, 0);
  const np = request.np ?? totalSlots;
  if (np > totalSlots && !request.oversubscribe) {
    throw new UsageError(`-n ${np} needs ${np} slots but the hosts offer ${totalSlots} (${describe(hosts, capacity)}); ` +
      'add hosts or slots, or allow more ranks than slots with --oversubscribe');
  }
  const limit = hosts.map((h) => h.maxSlots ?? Number.POSITIVE_INFINITY);
  const hardTotal = limit.reduce((a, b) => a + b, 0);
  if (np > hardTotal) {
    throw new UsageError(`-n ${np} is more than the hosts' max_slots allow (${hardTotal} in all), even with --oversubscribe`);
  }
  const counts = new Array<number>(hosts.length).fill(0);
  const order = mapBy === 'node' ? roundRobin(np, capacity, counts) : fillSlots(np, capacity, counts);
  // Ranks beyond the slots go round robin over hosts still under their max_slots.
  for (let host = 0; order.length < np; host = (host + 1) % hosts.length) {
    if (counts[host]! < limit[host]!) {
      order.push(host);
      counts[host]!++;
    }
  }
  return order.map((index) => hosts[index]!.name);
}

function fillSlots(np: number, capacity: number[], counts: number[]): number[] {
  const order: number[] = [];
  capacity.forEach((slots, host) => {
    for (let i = 0; i < slots && order.length < np; i++) {
      order.push(host);
      counts[host]!++;
    }
  });
  return order;
}

function roundRobin(np: number, capacity: number[], counts: number[]): number[] {
  const order: number[] = [];
  let placedThisRound = true;
  while (order.length < np && placedThisRound) {
    placedThisRound = false;
    for (let host = 0; host < capacity.length && order.length < np; host++) {
      if (counts[host]! < capacity[host]!) {
        order.push(host);
        counts[host]!++;
        placedThisRound = true;
      }
    }
  }
  return order;
}

function describe(hosts: HostEntry[], capacity: number[]): string {
  const shown = hosts.slice(0, 6).map((h, i) => `${h.name}:${capacity[i]}`);
  return hosts.length > 6 ? `${shown.join(', ')}, ... ${hosts.length} hosts` : shown.join(', ');
}

/**
 * Each rank's place among the ranks of its host (in rank order) and how many
 * that host has: what a rank needs to bind itself (wire/binding.ts), and, in
 * `hostIndex`, the order in which hosts first appear (Hydra's %p).
 */
export function localPlaces(placements: readonly { rank: number; host: string }[]):
  Map<number, { index: number; count: number; hostIndex: number }> {
  const counts = new Map<string, number>();
  const hostIndexes = new Map<string, number>();
  for (const { host } of placements) {
    counts.set(host, (counts.get(host) ?? 0) + 1);
    if (!hostIndexes.has(host)) hostIndexes.set(host, hostIndexes.size);
  }
  const seen = new Map<string, number>();
  const places = new Map<number, { index: number; count: number; hostIndex: number }>();
  for (const { rank, host } of placements) {
    const index = seen.get(host) ?? 0;
    seen.set(host, index + 1);
    places.set(rank, { index, count: counts.get(host)!, hostIndex: hostIndexes.get(host)! });
  }
  return places;
}
