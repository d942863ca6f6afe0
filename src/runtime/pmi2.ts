/**
 * Bootstrap under Slurm's `srun --mpi=pmi2` (and other PMI-2 servers): the
 * PMI-2 wire protocol over the socket in PMI_FD. The client first says
 * `cmd=init pmi_version=2 pmi_subversion=0` in PMI-1 form; from then on every
 * message is a 6-character decimal length followed by `key=value;` pairs.
 */
import { JobError, requiredIntVar } from '../base/index.js';
import { KvsBootstrap, PmiSocket, pmiFd, type KvsChannel } from './kvs-bootstrap.js';
import { parseWords } from './pmi1.js';

const CHUNK_MAX = 512;
const LENGTH_DIGITS = 6;

export async function openPmi2(env: NodeJS.ProcessEnv): Promise<KvsBootstrap> {
  const fd = pmiFd(env, 'a PMI-2 launcher (srun --mpi=pmi2)');
  const socket = new PmiSocket(fd, 'PMI-2');
  await socket.request('cmd=init pmi_version=2 pmi_subversion=0\n');
  const init = parseWords(await socket.readLine());
  if (init.cmd !== 'response_to_init' || (init.rc !== undefined && init.rc !== '0')) {
    throw new JobError(`PMI-2: init was answered with ${JSON.stringify(init)}, not response_to_init rc=0`);
  }
  const channel = new Pmi2Channel(socket);
  const pmirank = env.PMI_RANK ?? env.SLURM_PROCID ?? '0';
  const jobid = Number.parseInt(env.PMI_JOBID ?? '0', 10) || 0;
  const full = await channel.call(`cmd=fullinit;pmijobid=${jobid};pmirank=${pmirank};threaded=FALSE;`, 'fullinit-response');
  const rank = requiredIntVar(full, 'rank', 0);
  const size = requiredIntVar(full, 'size', 1);
  if (rank >= size) throw new JobError(`PMI-2: fullinit gave rank ${rank} for a size of ${size}`);
  const boot = new KvsBootstrap('pmi2', rank, size, appnumOf(full), channel, fd);
  await boot.start();
  return boot;
}

/**
 * PMI-2's fullinit answer carries `appnum` (PMI2_Init's fourth result); a
 * server that does not know it (Slurm sends -1) or leaves it out gives 0.
 */
export function appnumOf(full: Record<string, string>): number {
  const appnum = Number(full.appnum ?? '');
  return Number.isInteger(appnum) && appnum >= 0 && full.appnum !== '' ? appnum : 0;
}

class Pmi2Channel implements KvsChannel {
  readonly valueMax = CHUNK_MAX;
  readonly abortOnBadExit = true;

  constructor(private readonly socket: PmiSocket) {}

  async call(body: string, expect: string): Promise<Record<string, string>> {
    await this.socket.request(frame(body));
    const length = Number((await this.socket.readBytes(LENGTH_DIGITS)).trim());
    if (!Number.isInteger(length) || length < 0) throw new JobError(`PMI-2: bad length prefix in the answer to "${commandOf(body)}"`);
    const fields = parsePairs(await this.socket.readBytes(length));
    if (fields.cmd !== expect) throw new JobError(`PMI-2: sent "${commandOf(body)}", expected cmd=${expect} back, got ${JSON.stringify(fields)}`);
    if (fields.rc !== undefined && fields.rc !== '0') {
      throw new JobError(`PMI-2: "${commandOf(body)}" failed with rc=${fields.rc}${fields.errmsg === undefined ? '' : ` (${fields.errmsg})`}`);
    }
    return fields;
  }

  async put(key: string, value: string): Promise<void> {
    await this.call(`cmd=kvs-put;key=${key};value=${value};`, 'kvs-put-response');
  }

  async fence(): Promise<void> {
    await this.call('cmd=kvs-fence;', 'kvs-fence-response');
  }

  async get(key: string): Promise<string> {
    const got = await this.call(`cmd=kvs-get;jobid=;srcid=-1;key=${key};`, 'kvs-get-response');
    if (got.found !== 'TRUE' || got.value === undefined) throw new JobError(`PMI-2: kvs-get of "${key}" found nothing`);
    return got.value;
  }

  async finalize(): Promise<void> {
    await this.call('cmd=finalize;', 'finalize-response');
  }

  abortMessage(code: number, message: string): string {
    // ';' ends a value; the message is for humans, so it is simply replaced.
    const text = (message === '' ? `exit code ${code}` : message).replace(/;/g, ',').replace(/\n/g, ' ').slice(0, 512);
    return frame(`cmd=abort;isworld=TRUE;msg=${text};`);
  }
}

/** Prefixes the 6-character, left-justified decimal length. */
export function frame(body: string): string {
  const length = Buffer.byteLength(body);
  return `${String(length).padEnd(LENGTH_DIGITS, ' ')}${body}`;
}

/** `cmd=x;a=1;` -> {cmd:'x', a:'1'}; a doubled ';;' is a literal ';'. */
export function parsePairs(body: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const pair of body.replace(/;;/g, '\uE000').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) fields[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/\uE000/g, ';');
  }
  return fields;
}

function commandOf(body: string): string {
  return body.split(';')[0] ?? body;
}
