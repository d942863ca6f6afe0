/**
 * Bootstrap under Open MPI's `mpirun` (and any PMIx server): the PMIx client
 * library the MPI installation ships (libpmix), called through koffi, gives
 * rank and size; addresses travel through the PMIx key-value store
 * (Put, Commit, Fence with data collection, Get), and abort goes to
 * PMIx_Abort so the launcher tears the job down its own way.
 *
 * The job key is drawn by rank 0 and published in the store before the
 * first fence: only processes of this job, authenticated by the PMIx server,
 * can read it, so it serves as well as the key `mpi4ts run` hands out.
 *
 * PMIx calls block the event loop; they run only at start-up and at the
 * end, when no message is in flight.
 */
import { randomBytes } from 'node:crypto';
import { JobError, loadKoffi, optionsOf, type Koffi } from '../base/index.js';
import type { PeerAddress } from '../wire/index.js';
import type { Bootstrap } from './bootstrap.js';
import { defaultAdvertiseHost } from './host.js';

/** Values from pmix_common.h (PMIx 3 and 4 agree on these). */
const PMIX_SUCCESS = 0;
const PMIX_GLOBAL = 3;
const PMIX_BOOL = 1;
const PMIX_STRING = 3;
const PMIX_RANK_WILDCARD = 0xffff_fffe;
const PMIX_JOB_SIZE = 'pmix.job.size';
/** MPI_APPNUM: Open MPI's mpirun gives each `:` block (app context) its index. */
const PMIX_APPNUM = 'pmix.appnum';
const PMIX_COLLECT_DATA = 'pmix.collect';
const KEY_ADDRESS = 'mpi4ts.address';
const KEY_JOB_KEY = 'mpi4ts.jobkey';

/** Where libpmix is looked for, after MPI4TS_PMIX_LIB. */
const LIBRARY_CANDIDATES = [
  'libpmix.so.2',
  '/usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so.2',
  '/usr/lib/aarch64-linux-gnu/pmix2/lib/libpmix.so.2',
  '/usr/lib/arm-linux-gnueabihf/pmix2/lib/libpmix.so.2',
  '/usr/lib64/libpmix.so.2',
  'libpmix.so',
];

interface PmixValue {
  type: number;
  data: { string?: string | null; u32?: number; flag?: boolean };
}

interface PmixProc {
  nspace: string;
  rank: number;
}

interface PmixApi {
  init(proc: Partial<PmixProc>): number;
  put(scope: number, key: string, value: PmixValue): number;
  commit(): number;
  fence(info: unknown, ninfo: number): number;
  get(proc: PmixProc, key: string): { rc: number; value: PmixValue | null };
  finalize(): number;
  abort(code: number, message: string): number;
}

/** True when a PMIx server started this process (Open MPI's mpirun, prterun). */
export function underPmix(env: NodeJS.ProcessEnv): boolean {
  return env.PMIX_NAMESPACE !== undefined && env.PMIX_RANK !== undefined;
}

export class PmixBootstrap implements Bootstrap {
  readonly name = 'pmix';
  readonly advertiseHost = defaultAdvertiseHost();
  rank = 0;
  size = 1;
  appnum = 0;
  key: Buffer = Buffer.alloc(0);
  private nspace = '';

  constructor(private readonly api: PmixApi) {}

  static open(env: NodeJS.ProcessEnv): PmixBootstrap {
    const boot = new PmixBootstrap(loadPmix(env));
    boot.start();
    return boot;
  }

  private start(): void {
    const me: Partial<PmixProc> = {};
    check(this.api.init(me), 'PMIx_Init', 'is PMIX_SERVER_URI* from a live mpirun?');
    this.nspace = me.nspace ?? '';
    this.rank = me.rank ?? 0;
    const size = this.api.get({ nspace: this.nspace, rank: PMIX_RANK_WILDCARD }, PMIX_JOB_SIZE);
    check(size.rc, `PMIx_Get(${PMIX_JOB_SIZE})`);
    this.size = size.value?.data.u32 ?? 0;
    if (this.size < 1) throw new JobError(`PMIx reported a job size of ${this.size}`);
    // Optional: a PMIx server that does not know it leaves APPNUM at 0.
    const appnum = this.api.get({ nspace: this.nspace, rank: this.rank }, PMIX_APPNUM);
    if (appnum.rc === PMIX_SUCCESS) this.appnum = appnum.value?.data.u32 ?? 0;
    if (this.rank === 0) {
      check(this.api.put(PMIX_GLOBAL, KEY_JOB_KEY, { type: PMIX_STRING, data: { string: randomBytes(32).toString('hex') } }), 'PMIx_Put');
    }
    this.fence();
    const key = this.getString(0, KEY_JOB_KEY);
    this.key = Buffer.from(key, 'hex');
  }

  async exchange(me: PeerAddress): Promise<PeerAddress[]> {
    check(this.api.put(PMIX_GLOBAL, KEY_ADDRESS, { type: PMIX_STRING, data: { string: JSON.stringify(me) } }), 'PMIx_Put');
    this.fence();
    return Array.from({ length: this.size }, (_, rank) => JSON.parse(this.getString(rank, KEY_ADDRESS)) as PeerAddress);
  }

  async finalize(): Promise<void> {
    // The fence is the barrier inside MPI_Finalize: nobody closes while a peer may still read.
    this.fence();
    this.api.finalize();
  }

  async abort(code: number, message: string): Promise<void> {
    // mpirun does not print the abort message itself.
    if (message !== '') process.stderr.write(`mpi4ts: ${message}\n`);
    this.api.abort(code, message);
    process.exit(code);
  }

  close(): void {}

  private fence(): void {
    const collect = { key: PMIX_COLLECT_DATA, flags: 0, value: { type: PMIX_BOOL, data: { flag: true } } };
    check(this.api.commit(), 'PMIx_Commit');
    check(this.api.fence(collect, 1), 'PMIx_Fence');
  }

  private getString(rank: number, key: string): string {
    const got = this.api.get({ nspace: this.nspace, rank }, key);
    check(got.rc, `PMIx_Get(rank ${rank}, ${key})`);
    const text = got.value?.type === PMIX_STRING ? got.value.data.string : null;
    if (typeof text !== 'string') throw new JobError(`PMIx_Get(rank ${rank}, ${key}) gave a value of type ${got.value?.type}, not a string`);
    return text;
  }
}

function check(rc: number, call: string, hint = ''): void {
  if (rc !== PMIX_SUCCESS) throw new JobError(`${call} failed with PMIx status ${rc}${hint === '' ? '' : `; ${hint}`}`);
}

/** Binds the handful of PMIx calls we need; clear errors when koffi or libpmix is missing. */
function loadPmix(env: NodeJS.ProcessEnv): PmixApi {
  const koffi = loadKoffi();
  if (koffi instanceof Error) {
    throw new JobError('this process runs under a PMIx launcher (PMIX_NAMESPACE and PMIX_RANK are set, e.g. Open MPI\'s mpirun), ' +
      `which mpi4ts reaches through koffi, and ${koffi.message}`, { cause: koffi });
  }
  const lib = openLibrary(koffi, optionsOf(env).pmixLib ?? undefined);
  // Named types, referred to by name in the prototypes below.
  koffi.struct('mpi4ts_pmix_proc_t', { nspace: koffi.array('char', 256, 'String'), rank: 'uint32' });
  const value = koffi.struct('mpi4ts_pmix_value_t', {
    type: 'uint16',
    data: koffi.union('mpi4ts_pmix_value_data', { string: 'const char *', u32: 'uint32', flag: 'bool', raw: koffi.array('uint8', 24) }),
  });
  koffi.struct('mpi4ts_pmix_info_t', { key: koffi.array('char', 512, 'String'), flags: 'uint32', value });
  const init = lib.func('int PMIx_Init(_Out_ mpi4ts_pmix_proc_t *proc, void *info, size_t ninfo)');
  const put = lib.func('int PMIx_Put(uint8_t scope, const char *key, mpi4ts_pmix_value_t *val)');
  const commit = lib.func('int PMIx_Commit()');
  const fence = lib.func('int PMIx_Fence(void *procs, size_t nprocs, mpi4ts_pmix_info_t *info, size_t ninfo)');
  const get = lib.func('int PMIx_Get(mpi4ts_pmix_proc_t *proc, const char *key, void *info, size_t ninfo, _Out_ void **val)');
  const finalize = lib.func('int PMIx_Finalize(void *info, size_t ninfo)');
  const abort = lib.func('int PMIx_Abort(int status, const char *msg, void *procs, size_t nprocs)');
  return {
    init: (me) => init(me, null, 0) as number,
    put: (scope, key, v) => put(scope, key, v) as number,
    commit: () => commit() as number,
    fence: (info, ninfo) => fence(null, 0, info, ninfo) as number,
    get: (p, key) => {
      const out: unknown[] = [null];
      const rc = get(p, key, null, 0, out) as number;
      return { rc, value: rc === PMIX_SUCCESS && out[0] !== null ? (koffi.decode(out[0], value) as PmixValue) : null };
    },
    finalize: () => finalize(null, 0) as number,
    abort: (code, message) => abort(code, message, null, 0) as number,
  };
}

function openLibrary(koffi: Koffi, override: string | undefined): ReturnType<Koffi['load']> {
  const candidates = override !== undefined && override !== '' ? [override] : LIBRARY_CANDIDATES;
  const errors: string[] = [];
  for (const path of candidates) {
    try {
      return koffi.load(path);
    } catch (err) {
      errors.push(`${path}: ${(err as Error).message}`);
    }
  }
  throw new JobError(`cannot load libpmix, the PMIx client library of Open MPI (tried ${candidates.join(', ')}); ` +
    `install it (Debian: libpmix2) or set MPI4TS_PMIX_LIB to its path. ${errors[0] ?? ''}`);
}
