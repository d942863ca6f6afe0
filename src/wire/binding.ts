/**
 * CPU binding's shared part (--bind-to, --map-by, --report-bindings): what
 * `mpi4ts run` tells a rank, the policy and the rank's place among its
 * host's ranks, in MPI4TS_BIND="BIND:MAP:INDEX:COUNT[:overload]" and
 * MPI4TS_REPORT_BINDINGS=1; and which CPUs that gives on a host, from the
 * host's topology (/sys) and the CPUs the process may use (/proc/self/status).
 * The launcher writes the request and checks it against its own host before
 * any rank starts; the rank reads it and pins itself on its host
 * (runtime/binding.ts).
 *
 * Mapping, as Open MPI's: `core` (and the host-level `slot`/`node`) puts the
 * i-th rank of a host on its i-th core; `socket` and `numa` go round robin
 * over those, the k-th pass taking the k-th core of each. Binding then pins
 * to the object of the --bind-to level that holds the rank's place (or, when
 * finer than the mapping, the k-th one inside it). More ranks than places is
 * an error unless overload is allowed (--oversubscribe), when places repeat.
 *
 */
import { readdirSync, readFileSync } from 'node:fs';
import { JobError, textVar } from '../base/index.js';

/** What a binding can pin to, finest first. */
export const BIND_LEVELS = ['hwthread', 'core', 'numa', 'socket'] as const;
export type BindLevel = (typeof BIND_LEVELS)[number];

/** What the launcher tells a rank (MPI4TS_BIND "bind:map:index:count[:overload]"). */
export interface BindRequest {
  /** The level to pin to, or 'none' to pin nothing (only report). */
  bindTo: BindLevel | 'none';
  /** The level ranks are placed over on their host. */
  mapBy: BindLevel;
  /** This rank's index among the ranks of its host, in rank order. */
  localIndex: number;
  /** Ranks on this rank's host. */
  localCount: number;
  /** More ranks than places may share them (--oversubscribe). */
  overload: boolean;
  /** Print the binding on stderr (--report-bindings). */
  report: boolean;
}

const LEVEL_NAMES = new Set<string>(BIND_LEVELS);

/** Reads MPI4TS_BIND ("bind:map:index:count[:overload]") and MPI4TS_REPORT_BINDINGS; null when unset. */
export function bindRequestOf(env: NodeJS.ProcessEnv): BindRequest | null {
  const text = textVar(env, 'MPI4TS_BIND');
  if (text === null) return null;
  const [bindTo, mapBy, index, count, flag, extra] = text.split(':');
  const localIndex = Number(index);
  const localCount = Number(count);
  if ((bindTo !== 'none' && !LEVEL_NAMES.has(bindTo!)) || !LEVEL_NAMES.has(mapBy ?? '') ||
      !Number.isInteger(localIndex) || !Number.isInteger(localCount) || localIndex < 0 || localIndex >= localCount ||
      (flag !== undefined && flag !== 'overload') || extra !== undefined) {
    throw new JobError(`MPI4TS_BIND="${text}" must be BIND:MAP:INDEX:COUNT[:overload] (set by mpi4ts run), ` +
      `BIND none or one of ${BIND_LEVELS.join(', ')}, MAP one of those, 0 <= INDEX < COUNT`);
  }
  return {
    bindTo: bindTo as BindLevel | 'none', mapBy: mapBy as BindLevel, localIndex, localCount,
    overload: flag === 'overload', report: textVar(env, 'MPI4TS_REPORT_BINDINGS') === '1',
  };
}

/** The environment that tells a rank `request` (what bindRequestOf reads back). */
export function bindRequestEnv(request: BindRequest): Record<string, string> {
  const { bindTo, mapBy, localIndex, localCount, overload, report } = request;
  const env: Record<string, string> = { MPI4TS_BIND: `${bindTo}:${mapBy}:${localIndex}:${localCount}${overload ? ':overload' : ''}` };
  if (report) env.MPI4TS_REPORT_BINDINGS = '1';
  return env;
}

/** One CPU (hardware thread) and what holds it. */
export interface Cpu {
  id: number;
  /** Core, socket and NUMA node numbers as the kernel gives them. */
  core: number;
  socket: number;
  numa: number;
}

/** Parses a kernel CPU list ("0-3,8,10-11"). */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (match === null) throw new JobError(`bad CPU list "${text}"`);
    const lo = Number(match[1]);
    const hi = match[2] === undefined ? lo : Number(match[2]);
    for (let cpu = lo; cpu <= hi; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** Writes CPU ids as a kernel CPU list, ranges joined ("0-3,8"). */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...cpus].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i]!;
    while (i + 1 < sorted.length && sorted[i + 1] === sorted[i]! + 1) i++;
    parts.push(start === sorted[i] ? String(start) : `${start}-${sorted[i]}`);
  }
  return parts.join(',');
}

/** Where the kernel tells topology; tests pass a folder of their own. */
export interface TopologySource {
  /** /sys/devices/system */
  sys: string;
  /** This process's status file, /proc/self/status (its Cpus_allowed_list). */
  status: string;
}

const HOST: TopologySource = { sys: '/sys/devices/system', status: '/proc/self/status' };

function readNumber(path: string, fallback: number): number {
  try {
    const value = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(value) && value >= 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

/** The CPUs this process may run on, with their core, socket and NUMA node. */
export function readTopology(source: TopologySource = HOST): Cpu[] {
  const status = readFileSync(source.status, 'utf8');
  const allowedLine = /^Cpus_allowed_list:\s*(.*)$/m.exec(status);
  if (allowedLine === null) throw new JobError(`${source.status} has no Cpus_allowed_list`);
  const allowed = parseCpuList(allowedLine[1]!);
  const numaOf = new Map<number, number>();
  let nodes: string[] = [];
  try {
    nodes = readdirSync(`${source.sys}/node`).filter((n) => /^node\d+$/.test(n));
  } catch {
    // No NUMA information: one node.
  }
  for (const node of nodes) {
    const list = readFileSync(`${source.sys}/node/${node}/cpulist`, 'utf8');
    for (const cpu of parseCpuList(list)) numaOf.set(cpu, Number(node.slice(4)));
  }
  return allowed.map((id) => {
    const topology = `${source.sys}/cpu/cpu${id}/topology`;
    return {
      id,
      core: readNumber(`${topology}/core_id`, id),
      socket: readNumber(`${topology}/physical_package_id`, 0),
      numa: numaOf.get(id) ?? 0,
    };
  });
}

/** The CPUs grouped into objects of `level`, ordered by socket then by their first CPU. */
export function objectsOf(cpus: readonly Cpu[], level: BindLevel): number[][] {
  const key = (c: Cpu): string => (level === 'hwthread' ? `${c.id}` : level === 'core' ? `${c.socket}/${c.core}`
    : level === 'socket' ? `${c.socket}` : `${c.numa}`);
  const groups = new Map<string, Cpu[]>();
  for (const cpu of cpus) {
    const group = groups.get(key(cpu));
    if (group === undefined) groups.set(key(cpu), [cpu]);
    else group.push(cpu);
  }
  return [...groups.values()]
    .sort((a, b) => a[0]!.socket - b[0]!.socket || Math.min(...a.map((c) => c.id)) - Math.min(...b.map((c) => c.id)))
    .map((group) => group.map((c) => c.id).sort((x, y) => x - y));
}

const PLURAL: Record<BindLevel, string> = { hwthread: 'hardware threads', core: 'cores', numa: 'NUMA nodes', socket: 'sockets' };

/** What a rank is pinned to: its CPUs and the object they make up. */
export interface Binding {
  cpus: number[];
  /** e.g. "core 1" (the index among this host's usable objects of the level). */
  what: string;
}

/**
 * The CPUs of the rank at `request.localIndex` on a host with `cpus`, or
 * null for --bind-to none. Throws a JobError when there are more ranks than
 * places and overload is not allowed.
 */
export function bindingFor(request: BindRequest, cpus: readonly Cpu[]): Binding | null {
  if (request.bindTo === 'none') return null;
  const { mapBy, bindTo, localIndex: i, localCount, overload } = request;
  const places = objectsOf(cpus, mapBy);
  const fills = mapBy === 'core' || mapBy === 'hwthread';
  // Filling mappers give rank i the i-th place; round-robin ones the (i mod n)-th, on pass k.
  let place = fills ? i : i % places.length;
  let pass = fills ? 0 : Math.floor(i / places.length);
  const tooMany = (have: number, of: string): JobError => new JobError(
    `--bind-to ${bindTo} --map-by ${mapBy}: ${localCount} ranks on this host but only ${have} ${of} ` +
    `(usable CPUs ${formatCpuList(cpus.map((c) => c.id))}); start fewer ranks per host, use --bind-to none, ` +
    'or let ranks share them with --oversubscribe');
  if (place >= places.length) {
    if (!overload) throw tooMany(places.length, PLURAL[mapBy]);
    place %= places.length;
  }
  const location = places[place]!;
  const targets = objectsOf(cpus, bindTo);
  if (BIND_LEVELS.indexOf(bindTo) >= BIND_LEVELS.indexOf(mapBy)) {
    // As coarse as the mapping or coarser: the object that holds the place.
    const index = targets.findIndex((t) => t.includes(location[0]!));
    return { cpus: targets[index]!, what: `${bindTo} ${index}` };
  }
  // Finer than the mapping: the pass-th one inside the place.
  const inside = targets.map((t, index) => ({ t, index })).filter(({ t }) => location.includes(t[0]!));
  if (pass >= inside.length) {
    if (!overload) throw tooMany(inside.length * places.length, PLURAL[bindTo]);
    pass %= inside.length;
  }
  return { cpus: inside[pass]!.t, what: `${bindTo} ${inside[pass]!.index}` };
}

/** Open MPI's picture of a mask: a bracket per socket, a character per core, B where bound ("[B/.][./.]"). */
export function bindingPicture(cpus: readonly Cpu[], bound: readonly number[]): string {
  const mine = new Set(bound);
  return objectsOf(cpus, 'socket').map((socket) => {
    const cores = objectsOf(cpus.filter((c) => socket.includes(c.id)), 'core');
    return `[${cores.map((core) => (core.some((id) => mine.has(id)) ? 'B' : '.')).join('/')}]`;
  }).join('');
}
