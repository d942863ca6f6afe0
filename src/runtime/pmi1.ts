/**
 * Bootstrap under MPICH's Hydra (`mpiexec.hydra`, `mpiexec.mpich`) and any
 * other PMI-1 server: the PMI-1.1 wire protocol, newline-terminated
 * `key=value` words, in lock step over the socket Hydra passes in PMI_FD,
 * with the rank and size in PMI_RANK and PMI_SIZE. Hydra's spawn
 * (`mcmd=spawn`) carries comm.spawn (pmi1-spawn.ts); a process it started
 * for mpi4ts parents (PMI_SPAWNED=1 and the parents' preput) joins them.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { debug, JobError, optionsOf, requiredIntVar } from '../base/index.js';
import { defaultAdvertiseHost, firstLocalAddress, interfaceAddress } from './host.js';
import { chunkEntries, getChunked, KvsBootstrap, PmiSocket, pmiFd, type KvsChannel } from './kvs-bootstrap.js';
import { PARENT_PREPUT, parentPreputOf, Pmi1Spawner, type ParentPreput, type PmiSpawnChannel } from './pmi1-spawn.js';

/** Values are cut to this size at most, well inside a 1024-byte command line. */
const CHUNK_MAX = 512;

/** Set by Hydra for `mpiexec -iface NAME`: the interface MPICH's processes use. */
export const HYDRA_IFACE = 'MPIR_CVAR_NEMESIS_TCP_NETWORK_IFACE';
/** Set by Hydra otherwise: this host's name as the host list (-hosts, -f) spells it. */
export const HYDRA_HOSTNAME = 'MPIR_CVAR_CH3_INTERFACE_HOSTNAME';
/** A resolver that does not answer by then is not waited for: the default address is used. */
const LOOKUP_MS = 2000;

export async function openPmi1(env: NodeJS.ProcessEnv): Promise<KvsBootstrap> {
  const fd = pmiFd(env, 'a PMI-1 launcher (MPICH\'s mpiexec.hydra)');
  const size = requiredIntVar(env, 'PMI_SIZE', 1);
  const rank = requiredIntVar(env, 'PMI_RANK', 0);
  if (rank >= size) throw new JobError(`PMI_RANK=${rank} is out of range for PMI_SIZE=${size} (0..${size - 1})`);
  const channel = await Pmi1Channel.connect(new PmiSocket(fd, 'PMI-1'));
  const appnum = await channel.appnum();
  const universeSize = await channel.universeSize();
  const parent = env.PMI_SPAWNED === '1' ? await spawnedBy(channel) : null;
  const boot = new KvsBootstrap('pmi1', rank, size, appnum, channel, fd, await hydraAdvertiseHost(env),
    { spawner: new Pmi1Spawner(channel), parent, universeSize });
  await boot.start();
  return boot;
}

/**
 * A process Hydra spawned: its parents' preput (pmi1-spawn.ts), or null if
 * no mpi4ts process spawned it (an MPICH program's MPI_Comm_spawn, whose
 * PARENT_ROOT_PORT_NAME mpi4ts cannot answer): then it runs as a world of its own.
 */
async function spawnedBy(channel: Pmi1Channel): Promise<ParentPreput | null> {
  if ((await channel.tryGet(`${PARENT_PREPUT}-0-n`)) === null) {
    debug('PMI_SPAWNED=1 but no %s in the store: not spawned by mpi4ts; MPI.getParent() is null', PARENT_PREPUT);
    return null;
  }
  return parentPreputOf(await getChunked(channel, 'PMI-1', PARENT_PREPUT, 0));
}

/**
 * The address peers on other hosts dial, chosen as MPICH's own processes
 * choose it under Hydra, so that `-iface` and the host list mean the same for
 * both: MPI4TS_HOST_ADDRESS if set; else the address of the interface named by
 * -iface; else the address the host list's name for this host resolves to, if
 * it is one of this host's (Debian maps its own name to 127.0.1.1, which is
 * not); else the default (first non-loopback IPv4 address).
 */
export async function hydraAdvertiseHost(env: NodeJS.ProcessEnv): Promise<string> {
  if (optionsOf(env).hostAddress !== null) return defaultAdvertiseHost(env);
  const iface = env[HYDRA_IFACE] ?? '';
  if (iface !== '') return interfaceAddress(iface, `${HYDRA_IFACE} (mpiexec -iface)`);
  const name = env[HYDRA_HOSTNAME] ?? '';
  if (name !== '') {
    const resolved = isIP(name) !== 0 ? [name] : await resolveWithin(name, LOOKUP_MS);
    const local = firstLocalAddress(resolved);
    if (local !== null) return local;
  }
  return defaultAdvertiseHost(env);
}

async function resolveWithin(name: string, ms: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string[]>((resolve) => { timer = setTimeout(() => resolve([]), ms); });
  const found = lookup(name, { all: true }).then((list) => list.map((a) => a.address), () => []);
  try {
    return await Promise.race([found, late]);
  } finally {
    clearTimeout(timer);
  }
}

class Pmi1Channel implements KvsChannel, PmiSpawnChannel {
  readonly abortOnBadExit = true;
  private constructor(private readonly socket: PmiSocket, private readonly kvsname: string, readonly valueMax: number) {}

  static async connect(socket: PmiSocket): Promise<Pmi1Channel> {
    const init = await call(socket, 'cmd=init pmi_version=1 pmi_subversion=1', 'response_to_init');
    if (init.pmi_version !== undefined && init.pmi_version !== '1') {
      throw new JobError(`PMI-1: the launcher answered init with pmi_version=${init.pmi_version}, not 1`);
    }
    const maxes = await call(socket, 'cmd=get_maxes', 'maxes');
    const vallen = Number(maxes.vallen_max ?? '1024');
    const name = await call(socket, 'cmd=get_my_kvsname', 'my_kvsname');
    if (name.kvsname === undefined || name.kvsname === '') throw new JobError('PMI-1: the launcher sent no kvsname');
    // vallen_max counts the terminating NUL of the C API.
    return new Pmi1Channel(socket, name.kvsname, Math.max(16, Math.min(vallen - 1, CHUNK_MAX)));
  }

  /**
   * MPI_APPNUM: `cmd=get_appnum` answers `cmd=appnum appnum=N` (Hydra gives
   * each `:` block its index; there is no environment variable for it).
   * MPICH's own PMI_Init asks it of every PMI-1 server, so every server
   * answers; an error or a negative number gives 0.
   */
  async appnum(): Promise<number> {
    await this.socket.request('cmd=get_appnum\n');
    const fields = parseWords(await this.socket.readLine());
    const appnum = Number(fields.appnum ?? '');
    return fields.cmd === 'appnum' && (fields.rc ?? '0') === '0' && Number.isInteger(appnum) && appnum >= 0 ? appnum : 0;
  }

  /**
   * MPI_UNIVERSE_SIZE: `cmd=get_universe_size` answers `cmd=universe_size
   * size=N`; Hydra says -1 (unknown) unless `mpiexec -usize N` was given:
   * null then, and the universe is COMM_WORLD.
   */
  async universeSize(): Promise<number | null> {
    await this.socket.request('cmd=get_universe_size\n');
    const fields = parseWords(await this.socket.readLine());
    const size = Number(fields.size ?? '');
    return fields.cmd === 'universe_size' && Number.isInteger(size) && size > 0 ? size : null;
  }

  async put(key: string, value: string): Promise<void> {
    await call(this.socket, `cmd=put kvsname=${this.kvsname} key=${key} value=${value}`, 'put_result');
  }

  async fence(): Promise<void> {
    await call(this.socket, 'cmd=barrier_in', 'barrier_out');
  }

  async get(key: string): Promise<string> {
    const got = await call(this.socket, `cmd=get kvsname=${this.kvsname} key=${key}`, 'get_result');
    if (got.value === undefined) throw new JobError(`PMI-1: get of "${key}" returned no value`);
    return got.value;
  }

  /** get, or null where the store has no such key (Hydra answers rc=-1 msg=key_..._not_found). */
  async tryGet(key: string): Promise<string | null> {
    await this.socket.request(`cmd=get kvsname=${this.kvsname} key=${key}\n`);
    const fields = parseWords(await this.socket.readLine());
    return fields.cmd === 'get_result' && fields.rc === '0' && fields.value !== undefined ? fields.value : null;
  }

  /** Hydra's spawn: the `mcmd=spawn` lines (pmi1-spawn.ts), answered by `cmd=spawn_result rc=0`. */
  async spawn(lines: readonly string[]): Promise<void> {
    await this.socket.request(`${lines.join('\n')}\n`);
    const line = await this.socket.readLine();
    const fields = parseWords(line);
    if (fields.cmd !== 'spawn_result' || fields.rc !== '0') throw new JobError(`Hydra refused the spawn: it answered "${line}"`);
  }

  chunks(name: string, rank: number, text: string): [string, string][] {
    return chunkEntries(name, rank, text, this.valueMax);
  }

  async finalize(): Promise<void> {
    await call(this.socket, 'cmd=finalize', 'finalize_ack');
  }

  abortMessage(code: number): string {
    return `cmd=abort exitcode=${code}\n`;
  }
}

/** Sends one request and reads its response, checking the command and rc. */
async function call(socket: PmiSocket, request: string, expect: string): Promise<Record<string, string>> {
  await socket.request(`${request}\n`);
  const line = await socket.readLine();
  const fields = parseWords(line);
  if (fields.cmd !== expect) throw new JobError(`PMI-1: sent "${request.split(' ')[0]}", expected cmd=${expect} back, got "${line}"`);
  if (fields.rc !== undefined && fields.rc !== '0') {
    throw new JobError(`PMI-1: "${request.split(' ')[0]}" failed with rc=${fields.rc}${fields.msg === undefined ? '' : ` (${fields.msg})`}`);
  }
  return fields;
}

/** `a=1 b=2` -> {a:'1', b:'2'}; exported for the tests. */
export function parseWords(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const word of line.trim().split(/\s+/)) {
    const eq = word.indexOf('=');
    if (eq > 0) fields[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return fields;
}

