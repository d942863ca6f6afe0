/**
 * Host lists, as the users of MPICH and Open MPI already write them:
 *
 *   node1            # MPICH machinefile: one slot
 *   node2:4          # MPICH: four slots
 *   node3 slots=4 max_slots=8   # Open MPI hostfile
 *   10.0.0.7:2   fe80::1   [fd00::2]:2
 *
 * A host named twice adds up its slots (as Open MPI does). Errors name the
 * file, the line and what was expected, because a machinefile is written by
 * hand and read far away from where it fails.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../base/index.js';

export interface HostEntry {
  /** Host name or address literal, as given (IPv6 without brackets). */
  name: string;
  /** Ranks the host takes before it counts as oversubscribed. */
  slots: number;
  /** Ranks the host may never exceed, even with --oversubscribe; null for no limit. */
  maxSlots: number | null;
}

/** Where a host entry came from, for error messages. */
interface Origin {
  where: string;
}

const SLOTS_LIMIT = 1_000_000;

/** Reads and parses a hostfile; a missing file is a usage error naming it. */
export function readHostfile(path: string): HostEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read hostfile "${path}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const hosts = parseHostfile(text, path);
  if (hosts.length === 0) throw new UsageError(`hostfile "${path}" names no hosts`);
  return hosts;
}

/** Parses hostfile text; `file` names it in errors. */
export function parseHostfile(text: string, file: string): HostEntry[] {
  const entries: HostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    entries.push(parseLine(line, { where: `${file}:${index + 1}` }));
  });
  return mergeHosts(entries);
}

/** Parses `--host a:2,b,[::1]:3`. */
export function parseHostList(text: string, option = '--host'): HostEntry[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) {
    throw new UsageError(`${option} "${text}": expected a comma-separated list of host or host:slots, found an empty item`);
  }
  return mergeHosts(items.map((item) => parseHostSlots(item, { where: `${option} "${text}"` })));
}

function parseLine(line: string, origin: Origin): HostEntry {
  const [first, ...attributes] = line.split(/\s+/);
  const entry = parseHostSlots(first!, origin);
  let slotsGiven = /:\d+$/.test(first!) && !isBareIpv6(first!);
  for (const attribute of attributes) {
    const match = /^(slots|max_slots|max-slots)=(.*)$/.exec(attribute);
    if (match === null) {
      throw new UsageError(`${origin.where}: expected "slots=N" or "max_slots=N" after the host name, got "${attribute}"`);
    }
    const value = count(match[2]!, origin, match[1]!);
    if (match[1] === 'slots') {
      if (slotsGiven) throw new UsageError(`${origin.where}: slots given twice for host "${entry.name}"`);
      entry.slots = value;
      slotsGiven = true;
    } else {
      entry.maxSlots = value;
    }
  }
  if (entry.maxSlots !== null && entry.maxSlots < entry.slots) {
    throw new UsageError(`${origin.where}: max_slots=${entry.maxSlots} is less than slots=${entry.slots} for host "${entry.name}"`);
  }
  return entry;
}

/** `host`, `host:N`, `a.b.c.d:N`, bare IPv6 (`fe80::1`), `[v6]` or `[v6]:N`. */
function parseHostSlots(text: string, origin: Origin): HostEntry {
  let name = text;
  let slots = 1;
  const bracketed = /^\[([0-9A-Fa-f:.%\w]+)\](?::(.*))?$/.exec(text);
  if (bracketed !== null) {
    name = bracketed[1]!;
    if (bracketed[2] !== undefined) slots = count(bracketed[2], origin, 'slots');
  } else if (isBareIpv6(text)) {
    name = text;
  } else if (text.includes(':')) {
    const colon = text.lastIndexOf(':');
    name = text.slice(0, colon);
    slots = count(text.slice(colon + 1), origin, 'slots');
  }
  if (!/^[A-Za-z0-9_.%:-]+$/.test(name) || name.startsWith('-')) {
    throw new UsageError(`${origin.where}: expected a host name or address (optionally :slots), got "${text}"`);
  }
  return { name, slots, maxSlots: null };
}

/** Two or more colons and no brackets: an IPv6 literal, which cannot carry :slots. */
function isBareIpv6(text: string): boolean {
  return !text.startsWith('[') && (text.match(/:/g)?.length ?? 0) >= 2;
}

function count(text: string, origin: Origin, what: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > SLOTS_LIMIT) {
    throw new UsageError(`${origin.where}: expected ${what} to be a whole number from 1 to ${SLOTS_LIMIT}, got "${text}"`);
  }
  return value;
}

/** A host named twice adds its slots; the first mention keeps its place in the order. */
function mergeHosts(entries: HostEntry[]): HostEntry[] {
  const byName = new Map<string, HostEntry>();
  for (const entry of entries) {
    const seen = byName.get(entry.name);
    if (seen === undefined) {
      byName.set(entry.name, { ...entry });
      continue;
    }
    seen.slots += entry.slots;
    if (entry.maxSlots !== null) seen.maxSlots = (seen.maxSlots ?? 0) + entry.maxSlots;
  }
  return [...byName.values()];
}
