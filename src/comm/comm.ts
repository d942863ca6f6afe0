/**
 * The communicator (MPI 4.1 chapter 7): a group of ranks and a matching space
 * of their own; and the Cartesian communicator (chapter 8), a Comm that knows
 * its grid. Both classes live here, as mpi4py's Comm.pyx holds Comm and
 * Cartcomm: CartComm extends Comm and Comm.createCart makes CartComms, so one
 * module, loaded in any order, holds both ends of that knot.
 *
 * This is the public face: each method checks what a rank can check alone
 * (naming the user's call in its error) and hands off to one engine: the p2p
 * engine, a collective algorithm (coll/), communicator creation (create.ts)
 * or the grid math (cart.ts).
 *
 * # Unfinished features
 * - **3.6**: MPI 4.1's per-communicator buffers for buffered sends and MPI_Buffer_flush.
 * - **3.8.4**: cancelling a send (receives only).
 * - **chapter 4**: partitioned communication.
 * - **6.13**: persistent collectives (MPI_Bcast_init, ...).
 * - **6.9.7**: MPI_Reduce_local.
 * - **7.4.4**: communicator info hints (MPI_Comm_set_info, MPI_Comm_get_info).
 * - **7.7**: attribute caching (MPI_Comm_set_attr, keyvals, MPI_TAG_UB as an attribute).
 * - **9.3**: error handlers: errors are thrown or rejected, as with mpi4py's
 *   exceptions; MPI_Comm_set_errhandler and user handlers are not there.
 * - **chapter 11**: sessions (11.3); of dynamic processes, connect, accept
 *   and join (spawn and spawnMultiple are here, under mpi4ts run: spawn.ts
 *   lists what they lack).
 */
import { ANY_SOURCE, ANY_TAG, COMM_TYPE_SHARED, PROC_NULL, UNEQUAL, MPIError, debug, options, publish } from '../base/index.js';
import type { RawBuffer } from '../codec/index.js';
import { bufferedSend, encodeFor, Message, MESSAGE_NO_PROC, Prequest, Request, Status, volatileBytes, type BoardMismatch, type BoardWork, type HostBoard, type RoundStarter } from '../p2p/index.js';
import { buffers, callSignature, collectives, host, IN_PLACE, mismatchFailure, Op, runCollective, SUM, type Buf, type Channel, type Failure, type InPlace, type TypedArray } from '../coll/index.js';
import { checkBuffer, checkDest, checkDisjoint, checkOp, checkRecvTag, checkRoot, checkSendTag, checkSource, show } from './validate.js';
import { checkGrid, coordsOf, rankAt, shiftNeighbours, type Grid } from './cart.js';
import { COLLECTIVE_SEQUENCE_TAGS, collectiveContext, contextIdOf, SELF_CONTEXT_ID, WORLD_CONTEXT_ID } from './context.js';
import { checkGroup, compareComms, Group } from './group.js';
import { cartCreate, commCreate, commCreateGroup, commDup, commSplit, commSplitType, type CommInit } from './create.js';
import { intercommCreate, type Intercomm } from './intercomm.js';
import { spawnCommands, spawnIntercomm, type SpawnOptions } from './spawn.js';
import type { CommWorld } from './world.js';

/** Longest communicator name (MPI_MAX_OBJECT_NAME, 128 in MPICH, less its terminating NUL). */
const MAX_OBJECT_NAME = 127;

/** A communicator (MPI 4.1 section 7.4): the ranks of a group and a matching space of their own. */
export class Comm {
  /** This process's rank in the communicator (MPI_Comm_rank). */
  readonly rank: number;
  /** How many ranks the communicator has (MPI_Comm_size). */
  readonly size: number;
  /** @internal */ readonly world: CommWorld;
  /** @internal World rank of each member, indexed by rank in this communicator. */
  readonly group: readonly number[];
  /** @internal The number the members agreed on for this communicator (context.ts). */
  readonly contextId: number;
  /** @internal The engine's matching context of this communicator's sends and receives. */
  readonly pointToPointContext: number;
  /**
   * @internal The engine's matching context of its collectives, where no user
   * tag can reach (the name coll/'s CollectiveEndpoint reads).
   */
  readonly collContext: number;
  /**
   * @internal World rank of each rank that dest, source and a collective's
   * peers name: `group` itself, or an intercommunicator's remote group.
   */
  readonly peerGroup: readonly number[];
  /** What those ranks are of, for errors: "a communicator" or "the remote group". */
  private readonly peerSpace: string;
  /** Why it can no longer be used (freed, or its intercommunicator disconnected), or null while it can. */
  private endedAs: string | null = null;
  private collectiveCalls = 0;
  private commName: string;
  /** The call that made it (dup, split...), for errors about an unnamed communicator. */
  private readonly origin: string | null;
  /** The nonblocking call a blocking method runs for (see nonblocking), or null. */
  private callName: string | null = null;
  /** hostIndex's answer, once asked (undefined before). */
  private hosts: readonly number[] | null | undefined = undefined;
  /**
   * The host's board its collectives meet on (coll/host.ts), null where they
   * go by messages only, undefined until the first collective call decides.
   */
  private board: HostBoard | null | undefined = undefined;

  /** @internal Communicators come from COMM_WORLD, dup, split and createCart. */
  constructor(init: CommInit) {
    this.world = init.world;
    this.group = init.group;
    this.pointToPointContext = init.context;
    this.contextId = contextIdOf(init.context);
    this.collContext = collectiveContext(this.contextId);
    this.commName = this.contextId === WORLD_CONTEXT_ID ? 'MPI_COMM_WORLD' : this.contextId === SELF_CONTEXT_ID ? 'MPI_COMM_SELF' : '';
    this.origin = init.origin ?? null;
    this.size = init.group.length;
    this.rank = init.group.indexOf(init.world.rank);
    this.peerGroup = init.remoteGroup ?? init.group;
    this.peerSpace = init.remoteGroup === undefined ? 'a communicator' : 'the remote group';
    // Frames in its contexts must come from its peers (its members, or the remote group), under their rank there.
    init.world.engine.setGroup(init.context, this.peerGroup);
  }

  // ---- point-to-point (MPI 4.1 chapter 3) ----

  /** This process's rank, as `rank` (MPI_Comm_rank; mpi4py's `Get_rank()`, for programs being ported). */
  getRank(): number {
    return this.rank;
  }

  /** How many ranks, as `size` (MPI_Comm_size; mpi4py's `Get_size()`). */
  getSize(): number {
    return this.size;
  }

  /** Standard-mode send (MPI_Send): resolves when `value` may be changed again. */
  send(value: unknown, dest: number, tag = 0): Promise<void> {
    return this.sendAndWait('send', value, dest, tag, false);
  }

  /** Synchronous send (MPI_Ssend): resolves once the receiver has matched it. */
  ssend(value: unknown, dest: number, tag = 0): Promise<void> {
    return this.sendAndWait('ssend', value, dest, tag, true);
  }

  /** Nonblocking standard send (MPI_Isend). */
  isend(value: unknown, dest: number, tag = 0): Request<void> {
    return this.startSend('isend', value, dest, tag, false);
  }

  /** Nonblocking synchronous send (MPI_Issend). */
  issend(value: unknown, dest: number, tag = 0): Request<void> {
    return this.startSend('issend', value, dest, tag, true);
  }

  /**
   * Ready-mode send (MPI 4.1 section 3.4, MPI_Rsend): MPI calls it erroneous
   * unless the receive is already posted, and leaves what happens then to
   * the library; here it is a standard send, so it is delivered either way.
   */
  rsend(value: unknown, dest: number, tag = 0): Promise<void> {
    return this.sendAndWait('rsend', value, dest, tag, false);
  }

  /** Nonblocking ready-mode send (MPI_Irsend), a standard send as rsend. */
  irsend(value: unknown, dest: number, tag = 0): Request<void> {
    return this.startSend('irsend', value, dest, tag, false);
  }

  /**
   * Buffered send (MPI 4.1 sections 3.4 and 3.6, MPI_Bsend): resolves at
   * once, the message kept in the room of MPI.attachBuffer until delivered.
   * Rejects (MPI_ERR_BUFFER) with no buffer attached, or too little room
   * left in it (each message takes its encoded size plus MPI.BSEND_OVERHEAD).
   */
  bsend(value: unknown, dest: number, tag = 0): Promise<void> {
    try {
      return this.startBufferedSend('bsend', value, dest, tag, new Request<void>()).wait();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Nonblocking buffered send (MPI_Ibsend): the request is complete when returned; throws as bsend rejects. */
  ibsend(value: unknown, dest: number, tag = 0): Request<void> {
    return this.startBufferedSend('ibsend', value, dest, tag, new Request<void>());
  }

  /** Receives a value (MPI_Recv); fills `status` when given. */
  recv<T = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Promise<T> {
    return this.receiveAndWait<T>('recv', A_VALUE, source, tag, status);
  }

  /** Receives raw bytes into `buf` (MPI_Recv on a buffer); too small a buffer is MPI_ERR_TRUNCATE. */
  recvInto<B extends RawBuffer>(buf: B, source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Promise<B> {
    return this.receiveAndWait<B>('recvInto', buf, source, tag, status);
  }

  /** Nonblocking receive (MPI_Irecv). Receives match in the order they are posted. */
  irecv<T = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG): Request<T> {
    return this.startRecv<T>('irecv', A_VALUE, source, tag);
  }

  /** Nonblocking receive into a caller-owned buffer. */
  irecvInto<B extends RawBuffer>(buf: B, source: number = ANY_SOURCE, tag: number = ANY_TAG): Request<B> {
    return this.startRecv<B>('irecvInto', buf, source, tag);
  }

  /** Sends and receives at once (MPI_Sendrecv), safe against the exchange deadlock. */
  sendrecv<T = unknown>(value: unknown, dest: number, sendtag = 0,
    source: number = ANY_SOURCE, recvtag: number = ANY_TAG, status?: Status): Promise<T> {
    return this.exchange<T>('sendrecv', value, dest, sendtag, A_VALUE, source, recvtag, status);
  }

  /**
   * MPI_Sendrecv with a receive buffer: sends `sendbuf`'s bytes to `dest`
   * and receives into `recvbuf` (as recvInto), which it resolves with. The
   * order differs from mpi4py's `Sendrecv(sendbuf, dest, sendtag, recvbuf,
   * source, recvtag)`: the tags come after both ranks and buffers. The two
   * arrays must not overlap (MPI forbids it; use sendrecvReplace).
   */
  sendrecvInto<B extends RawBuffer>(sendbuf: RawBuffer, dest: number, recvbuf: B, source: number = ANY_SOURCE,
    sendtag = 0, recvtag: number = ANY_TAG, status?: Status): Promise<B> {
    try {
      checkBuffer(sendbuf, 'sendbuf', 'sendrecvInto');
      checkBuffer(recvbuf, 'recvbuf', 'sendrecvInto');
      checkDisjoint(sendbuf, recvbuf, 'sendrecvInto');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.exchange<B>('sendrecvInto', sendbuf, dest, sendtag, recvbuf, source, recvtag, status);
  }

  /**
   * Sends `buf`'s bytes to `dest` and receives into `buf` (MPI 4.1 section
   * 3.10, MPI_Sendrecv_replace; mpi4py's `Sendrecv_replace(buf, dest,
   * sendtag, source, recvtag)`, the tags here after the ranks). Resolves
   * with `buf`; a message larger than `buf` is MPI_ERR_TRUNCATE.
   */
  sendrecvReplace<B extends RawBuffer>(buf: B, dest: number, source: number = ANY_SOURCE,
    sendtag = 0, recvtag: number = ANY_TAG, status?: Status): Promise<B> {
    const call = 'sendrecvReplace';
    let send: Request<void>;
    try {
      // Everything first: once the send has gone, a bad receive argument could no longer fail the call cleanly.
      checkBuffer(buf, 'buf', call);
      this.checkUsable(call);
      checkDest(dest, this.peerGroup.length, 'dest', call, this.peerSpace);
      checkSendTag(sendtag, 'sendtag', call);
      checkSource(source, this.peerGroup.length, 'source', call, this.peerSpace);
      checkRecvTag(recvtag, 'recvtag', call);
      /*
       * The send first, its bytes marked as scratch: the engine copies them
       * only if the send cannot take them at once (a rendezvous, a full
       * ring), so once it returns, the incoming message may land in `buf`.
       * An eager message, the usual case, is not copied beyond the ring or socket.
       */
      send = this.world.engine.isendEncoded(this.pointToPointContext, this.rank, this.worldRankOf(dest), sendtag,
        volatileBytes(encodeFor(call, buf)), false, call, 0, new Request<void>());
    } catch (err) {
      return Promise.reject(err);
    }
    const receive = this.startRecv<B>(call, buf, source, recvtag);
    return Promise.all([receive.wait(status), send.wait()]).then(([received]) => received);
  }

  /** Waits for a matching message without receiving it (MPI_Probe). */
  async probe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Promise<Status> {
    this.checkUsable('probe');
    checkSource(source, this.peerGroup.length, 'source', 'probe', this.peerSpace);
    checkRecvTag(tag, 'tag', 'probe');
    const found = await this.world.engine.probe(this.pointToPointContext, source, this.worldRankOf(source), tag);
    return status === undefined ? found : status.assign(found);
  }

  /**
   * Is a matching message waiting? (MPI_Iprobe) Synchronous, like mpi4py: it
   * sees what has arrived by the last turn of the event loop, so a polling
   * loop must await something (a timer, a receive) between calls.
   */
  iprobe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): boolean {
    this.checkUsable('iprobe');
    checkSource(source, this.peerGroup.length, 'source', 'iprobe', this.peerSpace);
    checkRecvTag(tag, 'tag', 'iprobe');
    return this.world.engine.iprobe(this.pointToPointContext, source, tag, status);
  }

  /**
   * Waits for a matching message and takes it (MPI 4.1 section 3.8.2,
   * MPI_Mprobe): no other receive can match it any more; receive it with
   * the Message's recv, irecv, recvInto or irecvInto. PROC_NULL gives
   * MPI.MESSAGE_NO_PROC.
   */
  async mprobe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Promise<Message> {
    this.checkMatchedProbe('mprobe', source, tag);
    if (source === PROC_NULL) return noProcMessage(status);
    const engine = this.world.engine;
    const context = this.pointToPointContext;
    return new Message(engine, context, await engine.mprobe(context, source, this.worldRankOf(source), tag, status));
  }

  /** A matching message taken if one is there, else null (MPI_Improbe); synchronous, as iprobe. */
  improbe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Message | null {
    this.checkMatchedProbe('improbe', source, tag);
    if (source === PROC_NULL) return noProcMessage(status);
    const engine = this.world.engine;
    const found = engine.improbe(this.pointToPointContext, source, tag, status);
    return found === null ? null : new Message(engine, this.pointToPointContext, found);
  }

  // Persistent requests (MPI 4.1 section 3.9): arguments checked here, each start() posts one round.

  /** A persistent standard send (MPI_Send_init): each start() sends `value` as it is then. */
  sendInit(value: unknown, dest: number, tag = 0): Prequest<void> {
    return this.sendInitOf('sendInit', value, dest, tag, false);
  }

  /** A persistent synchronous send (MPI_Ssend_init). */
  ssendInit(value: unknown, dest: number, tag = 0): Prequest<void> {
    return this.sendInitOf('ssendInit', value, dest, tag, true);
  }

  /** A persistent ready-mode send (MPI_Rsend_init), a standard send as rsend. */
  rsendInit(value: unknown, dest: number, tag = 0): Prequest<void> {
    return this.sendInitOf('rsendInit', value, dest, tag, false);
  }

  /** A persistent buffered send (MPI_Bsend_init): each start() is a bsend, and throws as ibsend does. */
  bsendInit(value: unknown, dest: number, tag = 0): Prequest<void> {
    const call = 'bsendInit';
    const destWorld = this.checkedSend(call, dest, tag);
    const starter: RoundStarter<void> = (request) => {
      this.checkUsable('start');
      bufferedSend(this.world.engine, this.pointToPointContext, this.rank, destWorld, tag, value, `start (${call})`, request);
    };
    return new Prequest<void>(call, starter);
  }

  /** A persistent receive of a value (MPI_Recv_init). */
  recvInit<T = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG): Prequest<T> {
    return this.recvInitOf<T>('recvInit', A_VALUE, source, tag);
  }

  /** A persistent receive into `buf` (MPI_Recv_init on a buffer): each round fills `buf` and gives it. */
  recvIntoInit<B extends RawBuffer>(buf: B, source: number = ANY_SOURCE, tag: number = ANY_TAG): Prequest<B> {
    return this.recvInitOf<B>('recvIntoInit', buf, source, tag);
  }

  // ---- communicators and topologies (MPI 4.1 chapters 7 and 8); machinery in create.ts ----

  /** A communicator with the same group and a matching space of its own (MPI_Comm_dup). */
  dup(): Promise<Comm> {
    this.checkUsable('dup');
    return commDup(this, newComm);
  }

  /**
   * Splits into one communicator per `color`, ranked by `key` then by rank
   * here (MPI_Comm_split). Color UNDEFINED gives null.
   */
  split(color: number, key = 0): Promise<Comm | null> {
    this.checkUsable('split');
    return commSplit(this, color, key, newComm);
  }

  /** The ranks of this communicator that share this host (MPI_Comm_split_type). */
  splitType(type: number = COMM_TYPE_SHARED, key = 0): Promise<Comm | null> {
    this.checkUsable('splitType');
    return commSplitType(this, type, key, newComm);
  }

  /**
   * A communicator whose ranks sit on a grid (MPI_Cart_create). Ranks beyond
   * the grid's size get null. `reorder` is accepted and ignored, as MPI allows.
   */
  createCart(dims: readonly number[], periods?: readonly boolean[], reorder = false): Promise<CartComm | null> {
    this.checkUsable('createCart');
    void reorder;
    let grid: Grid;
    try {
      grid = checkGrid(dims, periods, this.size);
    } catch (err) {
      return Promise.reject(err);
    }
    return cartCreate(this, grid, (init) => new CartComm({ ...init, ...grid }));
  }

  /** This communicator's group (MPI_Comm_group): a local call, no message. */
  getGroup(): Group {
    this.checkUsable('getGroup');
    return new Group(this.group, this.world.rank);
  }

  /**
   * A communicator of the processes of `group`, in its order (MPI_Comm_create,
   * MPI 4.1 section 7.4.2): collective over this communicator; the processes
   * not in their group get null. Every member of a group passes that group;
   * groups that differ must not overlap (one call can make several).
   */
  create(group: Group): Promise<Comm | null> {
    this.checkUsable('create');
    checkGroup('create', group);
    return commCreate(this, group, newComm);
  }

  /**
   * A communicator of the processes of `group` (MPI_Comm_create_group),
   * collective over the group's members only: the others do not call it.
   * `tag` (0..TAG_UB) tells apart calls that may run at once on overlapping groups.
   */
  createGroup(group: Group, tag = 0): Promise<Comm> {
    this.checkUsable('createGroup');
    checkGroup('createGroup', group);
    return commCreateGroup(this, group, checkSendTag(tag, 'tag', 'createGroup'), newComm);
  }

  /**
   * IDENT (this very communicator), CONGRUENT (same group in the same order,
   * another context: a dup), SIMILAR (same members, another order) or
   * UNEQUAL (MPI_Comm_compare): local.
   */
  compare(other: Comm | Intercomm): number {
    // An intra- and an intercommunicator are UNEQUAL, as MPICH answers: their groups do not compare.
    if (isIntercomm(other)) return UNEQUAL;
    if (!(other instanceof Comm)) throw new MPIError('ERR_COMM', `compare: other must be an MPI.Comm or MPI.Intercomm, got ${String(other)}`);
    return compareComms(this.pointToPointContext === other.pointToPointContext, this.group, other.group);
  }

  /** The communicator's name (MPI_Comm_get_name / MPI_Comm_set_name): "MPI_COMM_WORLD", "MPI_COMM_SELF", or "" until set. */
  get name(): string {
    return this.commName;
  }

  set name(name: string) {
    if (typeof name !== 'string' || name.length > MAX_OBJECT_NAME) {
      throw new MPIError('ERR_ARG', `name: ${typeof name === 'string' ? `a name of ${name.length} characters` : String(name)} ` +
        `is not a valid communicator name (a string of at most ${MAX_OBJECT_NAME} characters)`);
    }
    this.commName = name;
  }

  /** Releases this communicator (MPI_Comm_free); any further call on it throws. */
  free(): void {
    this.checkUsable('free');
    if (this.contextId <= SELF_CONTEXT_ID) throw new MPIError('ERR_COMM', 'free: COMM_WORLD and COMM_SELF cannot be freed');
    this.release('this communicator was freed');
  }

  /**
   * @internal Gives its context id back; from now on every call throws
   * `<call>: <why>` (an Intercomm releases the communicators it is built of).
   */
  release(why: string): void {
    this.endedAs = why;
    this.world.engine.setGroup(this.pointToPointContext, null);
    this.world.contexts.release(this.contextId);
  }

  /** False: a Comm is an intracommunicator (MPI_Comm_test_inter); an Intercomm says true. */
  get isInter(): boolean {
    return false;
  }

  /** True: a Comm is an intracommunicator. */
  get isIntra(): boolean {
    return true;
  }

  /**
   * An intercommunicator between this communicator's group and another,
   * disjoint one (MPI 4.1 section 7.6.2, MPI_Intercomm_create): collective
   * over this communicator, whose rank `localLeader` talks, over `peerComm`
   * under `tag`, to the other group's leader, rank `remoteLeader` of
   * `peerComm`. `peerComm` and `remoteLeader` matter at the local leader
   * only (others may pass null and 0). Typically both halves of a split of
   * COMM_WORLD call it with `peerComm` COMM_WORLD.
   */
  createIntercomm(localLeader: number, peerComm: Comm | null, remoteLeader: number, tag = 0): Promise<Intercomm> {
    const call = 'createIntercomm';
    try {
      this.checkUsable(call);
      if (!Number.isInteger(localLeader) || localLeader < 0 || localLeader >= this.size) {
        throw new MPIError('ERR_RANK', `${call}: localLeader ${show(localLeader)} is out of range for a communicator of size ${this.size} (0..${this.size - 1})`);
      }
      checkSendTag(tag, 'tag', call);
    } catch (err) {
      return Promise.reject(err);
    }
    // A bad peerComm at the leader travels to the other ranks as the outcome (intercomm.ts), so none waits.
    const peer = this.rank !== localLeader ? null : peerComm instanceof Comm ? peerComm
      : `peerComm must be an MPI.Comm holding both leaders (an intracommunicator such as COMM_WORLD), got ${isIntercomm(peerComm) ? 'an MPI.Intercomm' : show(peerComm)}`;
    return intercommCreate(this, localLeader, peer, remoteLeader, tag, newComm);
  }

  /**
   * Starts `maxprocs` processes running `command` (a .ts, .js or .mjs
   * script, relative to the working directory) with `args`, as a new
   * COMM_WORLD (MPI 4.1 section 11.8.2, MPI_Comm_spawn). Collective over
   * this communicator; only `root`'s command, args, maxprocs and options
   * count. Resolves on every rank with an intercommunicator whose remote
   * group is the children, in their COMM_WORLD's order; the children reach
   * this communicator's group through `MPI.getParent()`. Under `mpi4ts run`
   * and MPICH's `mpiexec.hydra` (API.md "Dynamic processes").
   */
  spawn(command: string, args: readonly string[] = [], maxprocs = 1, root = 0, options: SpawnOptions = {}): Promise<Intercomm> {
    const call = 'spawn';
    try {
      this.checkUsable(call);
      checkSpawnRoot(call, root, this.size);
    } catch (err) {
      return Promise.reject(err);
    }
    const commands = this.rank === root ? spawnCommands(call, [command], [args], [maxprocs], [options]) : null;
    return spawnIntercomm(call, this, commands, root, newComm);
  }

  /**
   * @internal spawn for a PoolExecutor (pool/workers.ts): `count` processes
   * of `script`, marked as pool workers, so that one that dies fails its
   * task instead of the job (DESIGN.md "Task pools").
   */
  spawnPoolWorkers(script: string, count: number): Promise<Intercomm> {
    const call = 'PoolExecutor';
    try {
      this.checkUsable(call);
    } catch (err) {
      return Promise.reject(err);
    }
    const commands = this.rank === 0 ? spawnCommands(call, [script], [[]], [count], [{}]) : null;
    return spawnIntercomm(call, this, commands, 0, newComm, true);
  }

  /**
   * Starts several programs as one new COMM_WORLD (MPI_Comm_spawn_multiple):
   * `commands[i]` with `args[i]` on `maxprocs[i]` processes, in that order;
   * `MPI.APPNUM` is i in the processes of command i. As `spawn` otherwise.
   */
  spawnMultiple(commands: readonly string[], args: readonly (readonly string[])[] | null, maxprocs: readonly number[], root = 0,
    options: SpawnOptions | readonly SpawnOptions[] = {}): Promise<Intercomm> {
    const call = 'spawnMultiple';
    try {
      this.checkUsable(call);
      checkSpawnRoot(call, root, this.size);
    } catch (err) {
      return Promise.reject(err);
    }
    let checked: ReturnType<typeof spawnCommands> | null = null;
    if (this.rank === root) {
      const n = Array.isArray(commands) ? commands.length : -1;
      if (n < 1) checked = `commands must be a non-empty array of script paths, got ${show(commands)}`;
      else if (args !== null && (!Array.isArray(args) || args.length !== n)) checked = `args must be null or an array of ${n} arrays of strings (one per command), got ${show(args)}`;
      else if (!Array.isArray(maxprocs) || maxprocs.length !== n) checked = `maxprocs must be an array of ${n} counts (one per command), got ${show(maxprocs)}`;
      else if (Array.isArray(options) && options.length !== n) checked = `options must be one object or an array of ${n} (one per command), got ${show(options)}`;
      else {
        const each = Array.isArray(options) ? options : commands.map(() => options);
        checked = spawnCommands(call, [...commands], args === null ? commands.map(() => []) : [...args], [...maxprocs], [...each]);
      }
    }
    return spawnIntercomm(call, this, checked, root, newComm);
  }

  /** Ends every rank of the job (MPI_Abort); the launcher exits with `code`. */
  abort(code = 1): Promise<never> {
    const exitCode = Number.isInteger(code) && code >= 0 && code <= 255 ? code : 1;
    const message = `rank ${this.world.rank} called abort(${code})`;
    publish('mpi4ts:job:abort', () => ({ rank: this.world.rank, code: exitCode, message }));
    return this.world.bootstrap.abort(exitCode, message).then(() => process.exit(exitCode));
  }

  // ---- collectives (MPI 4.1 chapter 6); algorithms in coll/ ----

  /**
   * @internal The tag of every message of the next collective call: its
   * sequence number. Ranks call collectives in the same order, so they agree
   * on it, and calls started without awaiting never cross-match.
   */
  nextCollectiveTag(): number {
    const tag = this.collectiveCalls;
    this.collectiveCalls = tag + 1 >= COLLECTIVE_SEQUENCE_TAGS ? 0 : tag + 1;
    return tag;
  }

  /** Waits until every rank has called it (MPI_Barrier). */
  barrier(): Promise<void> {
    return this.collective('barrier', () => {}, (ch) => collectives.barrier(ch), -1, null, undefined, 1, () => host.barrierWork);
  }

  /** The root's value, on every rank (MPI_Bcast). */
  bcast<T>(value: T, root = 0): Promise<T> {
    return this.collective('bcast', () => checkRoot(root, this.size), (ch) => collectives.bcast(ch, value, root), root, null, undefined, 1,
      () => host.bcastWork(value, root, this.rank));
  }

  /** `values[rank]` of the root's array of `size` items (MPI_Scatter); others pass null. */
  scatter<T>(values: readonly T[] | null, root = 0): Promise<T> {
    return this.collective('scatter', () => checkRoot(root, this.size), (ch) => collectives.scatter(ch, values, root), root);
  }

  /** Every rank's value, in rank order, at the root; null elsewhere (MPI_Gather). */
  gather<T>(value: T, root = 0): Promise<T[] | null> {
    return this.collective('gather', () => checkRoot(root, this.size), (ch) => collectives.gather(ch, value, root), root);
  }

  /** Every rank's value, in rank order, on every rank (MPI_Allgather). */
  allgather<T>(value: T): Promise<T[]> {
    return this.collective('allgather', () => {}, (ch) => collectives.allgather(ch, value));
  }

  /** Item i of the result is what rank i put at index `rank` (MPI_Alltoall). */
  alltoall<T>(values: readonly T[]): Promise<T[]> {
    return this.collective('alltoall', () => {}, (ch) => collectives.alltoall(ch, values));
  }

  /** The reduction of every rank's value at the root; null elsewhere (MPI_Reduce). */
  reduce<T>(value: T, op: Op = SUM, root = 0): Promise<T | null> {
    return this.collective('reduce', () => { checkOp(op); checkRoot(root, this.size); },
      (ch) => collectives.reduce(ch, value, op, root), root, op);
  }

  /** The reduction of every rank's value, on every rank (MPI_Allreduce). */
  allreduce<T>(value: T, op: Op = SUM): Promise<T> {
    return this.collective('allreduce', () => checkOp(op), (ch) => collectives.allreduce(ch, value, op), -1, op, undefined, 1,
      () => host.allreduceWork(value, op));
  }

  /**
   * The reduction of typed arrays everywhere, into `recvbuf` (MPI_Allreduce
   * with a receive buffer): `recvbuf` has the type and length of `sendbuf`,
   * or is `sendbuf` itself to reduce in place. Large arrays allocate nothing.
   */
  allreduceInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, op: Op = SUM): Promise<A> {
    return this.collective('allreduceInto', () => checkOp(op), (ch) => collectives.allreduceInto(ch, sendbuf, recvbuf, op),
      -1, op, operandOf(sendbuf, recvbuf), 1, () => host.allreduceIntoWork<A>(sendbuf, recvbuf, op));
  }

  /** Inclusive prefix reduction over ranks 0..rank (MPI_Scan). */
  scan<T>(value: T, op: Op = SUM): Promise<T> {
    return this.collective('scan', () => checkOp(op), (ch) => collectives.scan(ch, value, op, false), -1, op);
  }

  /** Exclusive prefix reduction over ranks 0..rank-1; null on rank 0 (MPI_Exscan). */
  exscan<T>(value: T, op: Op = SUM): Promise<T | null> {
    return this.collective('exscan', () => checkOp(op), (ch) => collectives.scan(ch, value, op, true), -1, op);
  }

  /**
   * Every rank's typed array joined in rank order at the root, null elsewhere
   * (MPI_Gatherv). `counts[i]` (significant at the root) is the length rank i sends.
   */
  gatherv<A extends TypedArray>(sendbuf: A, counts: readonly number[] | null, root = 0, displs: readonly number[] | null = null): Promise<A | null> {
    return this.collective('gatherv', () => checkRoot(root, this.size),
      (ch) => collectives.gatherv(ch, sendbuf, counts, root, displs), root);
  }

  /**
   * Rank i gets the `counts[i]` elements of the root's typed array after
   * those of ranks below it (MPI_Scatterv). `sendbuf` and `counts` are
   * significant at the root; others may pass null.
   */
  scatterv<A extends TypedArray>(sendbuf: A | null, counts: readonly number[] | null, root = 0, displs: readonly number[] | null = null): Promise<A> {
    return this.collective('scatterv', () => checkRoot(root, this.size),
      (ch) => collectives.scatterv(ch, sendbuf, counts, root, displs), root);
  }

  /** Every rank's typed array (rank i's of length `counts[i]`) joined in rank order, everywhere (MPI_Allgatherv). */
  allgatherv<A extends TypedArray>(sendbuf: A, counts: readonly number[], displs: readonly number[] | null = null): Promise<A> {
    return this.collective('allgatherv', () => {}, (ch) => collectives.allgatherv(ch, sendbuf, counts, displs));
  }

  /**
   * Reduces typed arrays of `sum(counts)` elements element by element; rank i
   * gets the `counts[i]` elements after those of the ranks below it (MPI_Reduce_scatter).
   */
  reduceScatter<A extends TypedArray>(sendbuf: A, counts: readonly number[], op: Op = SUM): Promise<A> {
    return this.collective('reduceScatter', () => checkOp(op),
      (ch) => collectives.reduceScatter(ch, sendbuf, counts, op), -1, op);
  }

  // ---- collectives on the caller's buffers (mpi4py's upper-case calls); algorithms in coll/buffers.ts ----

  /** The root's `buf` into every other rank's (MPI_Bcast on a buffer, mpi4py's `Bcast`). */
  bcastInto<A extends TypedArray>(buf: Buf<A>, root = 0): Promise<A> {
    return this.collective('bcastInto', () => checkRoot(root, this.size), (ch) => buffers.bcastInto<A>(ch, buf, root), root, null, buf);
  }

  /**
   * The reduction of every rank's sendbuf into the root's recvbuf (MPI_Reduce
   * on buffers); other ranks may pass null as recvbuf. IN_PLACE as sendbuf at
   * the root takes its operand from recvbuf. Resolves with recvbuf at the root, null elsewhere.
   */
  reduceInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A> | null, op: Op = SUM, root = 0): Promise<A | null> {
    return this.collective('reduceInto', () => { checkOp(op); checkRoot(root, this.size); },
      (ch) => buffers.reduceInto<A>(ch, sendbuf, recvbuf, op, root, options().ringMinBytes), root, op, operandOf(sendbuf, recvbuf));
  }

  /** Every rank's sendbuf into its block of the root's recvbuf (MPI_Gather on buffers); IN_PLACE at the root. */
  gatherInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A> | null, root = 0): Promise<A | null> {
    return this.collective('gatherInto', () => checkRoot(root, this.size), (ch) => buffers.gatherInto<A>(ch, sendbuf, recvbuf, root),
      root, null, operandOf(sendbuf, recvbuf));
  }

  /** Block `rank` of the root's sendbuf into each rank's recvbuf (MPI_Scatter on buffers); IN_PLACE as recvbuf at the root. */
  scatterInto<A extends TypedArray>(sendbuf: Buf<A> | null, recvbuf: Buf<A> | InPlace, root = 0): Promise<A> {
    return this.collective('scatterInto', () => checkRoot(root, this.size), (ch) => buffers.scatterInto<A>(ch, sendbuf, recvbuf, root),
      root, null, recvbuf === IN_PLACE ? sendbuf : recvbuf);
  }

  /** Every rank's sendbuf into its block of every recvbuf (MPI_Allgather on buffers); IN_PLACE: this rank's block is in recvbuf. */
  allgatherInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>): Promise<A> {
    return this.collective('allgatherInto', () => {}, (ch) => buffers.allgatherInto<A>(ch, sendbuf, recvbuf),
      -1, null, operandOf(sendbuf, recvbuf), sendbuf === IN_PLACE ? this.size : 1);
  }

  /** Block i of sendbuf to rank i; rank i's block into block i of recvbuf (MPI_Alltoall on buffers). */
  alltoallInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>): Promise<A> {
    return this.collective('alltoallInto', () => {}, (ch) => buffers.alltoallInto<A>(ch, sendbuf, recvbuf), -1, null, recvbuf, this.size);
  }

  /**
   * MPI_Alltoallv: `sendcounts[i]` elements at `sdispls[i]` of sendbuf go to
   * rank i; rank i's part lands at `rdispls[i]` of recvbuf (`recvcounts[i]`
   * elements). Null displacements: parts back to back.
   */
  alltoallv<A extends TypedArray>(sendbuf: Buf<A> | InPlace, sendcounts: readonly number[] | null, sdispls: readonly number[] | null,
    recvbuf: Buf<A>, recvcounts: readonly number[], rdispls: readonly number[] | null = null): Promise<A> {
    return this.collective('alltoallv', () => {},
      (ch) => buffers.alltoallvInto<A>(ch, sendbuf, sendcounts, sdispls, recvbuf, recvcounts, rdispls), -1, null, recvbuf, 0);
  }

  /** MPI_Alltoallw: `sendbufs[i]` to rank i, rank i's part into `recvbufs[i]`; any types, one byte length per pair. */
  alltoallw(sendbufs: readonly Buf[], recvbufs: readonly Buf[]): Promise<TypedArray[]> {
    return this.collective('alltoallw', () => {}, (ch) => buffers.alltoallw(ch, sendbufs, recvbufs));
  }

  /** Inclusive prefix reduction into recvbuf (MPI_Scan on buffers); IN_PLACE takes the operand from recvbuf. */
  scanInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, op: Op = SUM): Promise<A> {
    return this.collective('scanInto', () => checkOp(op), (ch) => buffers.scanInto<A>(ch, sendbuf, recvbuf, op, false),
      -1, op, operandOf(sendbuf, recvbuf));
  }

  /** Exclusive prefix reduction into recvbuf (MPI_Exscan on buffers); rank 0's recvbuf is left as it is. */
  exscanInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, op: Op = SUM): Promise<A> {
    return this.collective('exscanInto', () => checkOp(op), (ch) => buffers.scanInto<A>(ch, sendbuf, recvbuf, op, true),
      -1, op, operandOf(sendbuf, recvbuf));
  }

  /**
   * MPI_Reduce_scatter_block: sendbufs of size × recvbuf.length elements
   * reduced element by element; rank i gets block i in recvbuf. IN_PLACE:
   * recvbuf holds the whole input and gets the block at its start.
   */
  reduceScatterBlockInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, op: Op = SUM): Promise<A> {
    return this.collective('reduceScatterBlockInto', () => checkOp(op), (ch) => buffers.reduceScatterInto<A>(ch, sendbuf, recvbuf, null, op),
      -1, op, recvbuf, sendbuf === IN_PLACE ? this.size : 1);
  }

  /** MPI_Reduce_scatter into recvbuf (`counts[rank]` elements); IN_PLACE as reduceScatterBlockInto. */
  reduceScatterInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, counts: readonly number[], op: Op = SUM): Promise<A> {
    return this.collective('reduceScatterInto', () => checkOp(op), (ch) => buffers.reduceScatterInto<A>(ch, sendbuf, recvbuf, counts, op),
      -1, op, recvbuf, 0);
  }

  /**
   * MPI_Gatherv on buffers: rank i's sendbuf into `counts[i]` elements at
   * `displs[i]` of the root's recvbuf (null displs: back to back); counts,
   * displs and recvbuf are significant at the root. IN_PLACE at the root.
   */
  gathervInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A> | null, counts: readonly number[] | null,
    displs: readonly number[] | null = null, root = 0): Promise<A | null> {
    return this.collective('gathervInto', () => checkRoot(root, this.size),
      (ch) => buffers.gathervInto<A>(ch, sendbuf, recvbuf, counts, displs, root), root, null, operandOf(sendbuf, recvbuf), 0);
  }

  /** MPI_Scatterv on buffers: `counts[i]` elements at `displs[i]` of the root's sendbuf into rank i's recvbuf; IN_PLACE recvbuf at the root. */
  scattervInto<A extends TypedArray>(sendbuf: Buf<A> | null, counts: readonly number[] | null, displs: readonly number[] | null,
    recvbuf: Buf<A> | InPlace, root = 0): Promise<A> {
    return this.collective('scattervInto', () => checkRoot(root, this.size),
      (ch) => buffers.scattervInto<A>(ch, sendbuf, counts, displs, recvbuf, root), root, null, recvbuf === IN_PLACE ? sendbuf : recvbuf, 0);
  }

  /** MPI_Allgatherv on buffers: rank i's sendbuf into `counts[i]` elements at `displs[i]` of every recvbuf; IN_PLACE. */
  allgathervInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, counts: readonly number[],
    displs: readonly number[] | null = null): Promise<A> {
    return this.collective('allgathervInto', () => {}, (ch) => buffers.allgathervInto<A>(ch, sendbuf, recvbuf, counts, displs),
      -1, null, operandOf(sendbuf, recvbuf), 0);
  }

  // ---- nonblocking collectives (MPI 4.1 section 6.12): the calls above as Requests ----

  /** MPI_Ibarrier: a Request that completes once every rank has called it. */
  ibarrier(): Request<void> { return this.nonblocking(this.barrier, 'ibarrier', []); }
  ibcast<T>(value: T, root = 0): Request<T> { return this.nonblocking(this.bcast, 'ibcast', [value, root]) as Request<T>; }
  ibcastInto<A extends TypedArray>(buf: Buf<A>, root = 0): Request<A> { return this.nonblocking(this.bcastInto, 'ibcastInto', [buf, root]) as Request<A>; }
  iscatter<T>(values: readonly T[] | null, root = 0): Request<T> { return this.nonblocking(this.scatter, 'iscatter', [values, root]) as Request<T>; }
  iscatterInto<A extends TypedArray>(sendbuf: Buf<A> | null, recvbuf: Buf<A> | InPlace, root = 0): Request<A> {
    return this.nonblocking(this.scatterInto, 'iscatterInto', [sendbuf, recvbuf, root]) as Request<A>;
  }
  iscatterv<A extends TypedArray>(sendbuf: A | null, counts: readonly number[] | null, root = 0, displs: readonly number[] | null = null): Request<A> {
    return this.nonblocking(this.scatterv, 'iscatterv', [sendbuf, counts, root, displs]) as Request<A>;
  }
  iscattervInto<A extends TypedArray>(sendbuf: Buf<A> | null, counts: readonly number[] | null, displs: readonly number[] | null,
    recvbuf: Buf<A> | InPlace, root = 0): Request<A> {
    return this.nonblocking(this.scattervInto, 'iscattervInto', [sendbuf, counts, displs, recvbuf, root]) as Request<A>;
  }
  igather<T>(value: T, root = 0): Request<T[] | null> { return this.nonblocking(this.gather, 'igather', [value, root]) as Request<T[] | null>; }
  igatherInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A> | null, root = 0): Request<A | null> {
    return this.nonblocking(this.gatherInto, 'igatherInto', [sendbuf, recvbuf, root]) as Request<A | null>;
  }
  igatherv<A extends TypedArray>(sendbuf: A, counts: readonly number[] | null, root = 0, displs: readonly number[] | null = null): Request<A | null> {
    return this.nonblocking(this.gatherv, 'igatherv', [sendbuf, counts, root, displs]) as Request<A | null>;
  }
  igathervInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A> | null, counts: readonly number[] | null,
    displs: readonly number[] | null = null, root = 0): Request<A | null> {
    return this.nonblocking(this.gathervInto, 'igathervInto', [sendbuf, recvbuf, counts, displs, root]) as Request<A | null>;
  }
  iallgather<T>(value: T): Request<T[]> { return this.nonblocking(this.allgather, 'iallgather', [value]) as Request<T[]>; }
  iallgatherInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>): Request<A> {
    return this.nonblocking(this.allgatherInto, 'iallgatherInto', [sendbuf, recvbuf]) as Request<A>;
  }
  iallgatherv<A extends TypedArray>(sendbuf: A, counts: readonly number[], displs: readonly number[] | null = null): Request<A> {
    return this.nonblocking(this.allgatherv, 'iallgatherv', [sendbuf, counts, displs]) as Request<A>;
  }
  iallgathervInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, counts: readonly number[],
    displs: readonly number[] | null = null): Request<A> {
    return this.nonblocking(this.allgathervInto, 'iallgathervInto', [sendbuf, recvbuf, counts, displs]) as Request<A>;
  }
  ialltoall<T>(values: readonly T[]): Request<T[]> { return this.nonblocking(this.alltoall, 'ialltoall', [values]) as Request<T[]>; }
  ialltoallInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>): Request<A> {
    return this.nonblocking(this.alltoallInto, 'ialltoallInto', [sendbuf, recvbuf]) as Request<A>;
  }
  ialltoallv<A extends TypedArray>(sendbuf: Buf<A> | InPlace, sendcounts: readonly number[] | null, sdispls: readonly number[] | null,
    recvbuf: Buf<A>, recvcounts: readonly number[], rdispls: readonly number[] | null = null): Request<A> {
    return this.nonblocking(this.alltoallv, 'ialltoallv', [sendbuf, sendcounts, sdispls, recvbuf, recvcounts, rdispls]) as Request<A>;
  }
  ireduce<T>(value: T, op: Op = SUM, root = 0): Request<T | null> { return this.nonblocking(this.reduce, 'ireduce', [value, op, root]) as Request<T | null>; }
  ireduceInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A> | null, op: Op = SUM, root = 0): Request<A | null> {
    return this.nonblocking(this.reduceInto, 'ireduceInto', [sendbuf, recvbuf, op, root]) as Request<A | null>;
  }
  iallreduce<T>(value: T, op: Op = SUM): Request<T> { return this.nonblocking(this.allreduce, 'iallreduce', [value, op]) as Request<T>; }
  iallreduceInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, op: Op = SUM): Request<A> {
    return this.nonblocking(this.allreduceInto, 'iallreduceInto', [sendbuf, recvbuf, op]) as Request<A>;
  }
  ireduceScatter<A extends TypedArray>(sendbuf: A, counts: readonly number[], op: Op = SUM): Request<A> {
    return this.nonblocking(this.reduceScatter, 'ireduceScatter', [sendbuf, counts, op]) as Request<A>;
  }
  ireduceScatterInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, counts: readonly number[], op: Op = SUM): Request<A> {
    return this.nonblocking(this.reduceScatterInto, 'ireduceScatterInto', [sendbuf, recvbuf, counts, op]) as Request<A>;
  }
  ireduceScatterBlockInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, op: Op = SUM): Request<A> {
    return this.nonblocking(this.reduceScatterBlockInto, 'ireduceScatterBlockInto', [sendbuf, recvbuf, op]) as Request<A>;
  }
  iscan<T>(value: T, op: Op = SUM): Request<T> { return this.nonblocking(this.scan, 'iscan', [value, op]) as Request<T>; }
  iscanInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, op: Op = SUM): Request<A> {
    return this.nonblocking(this.scanInto, 'iscanInto', [sendbuf, recvbuf, op]) as Request<A>;
  }
  iexscan<T>(value: T, op: Op = SUM): Request<T | null> { return this.nonblocking(this.exscan, 'iexscan', [value, op]) as Request<T | null>; }
  iexscanInto<A extends TypedArray>(sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, op: Op = SUM): Request<A> {
    return this.nonblocking(this.exscanInto, 'iexscanInto', [sendbuf, recvbuf, op]) as Request<A>;
  }

  /**
   * A blocking collective's method run under the nonblocking call's name
   * (its errors, and its code on the wire: MPI never matches a nonblocking
   * collective with a blocking one), its outcome as a Request. The call takes
   * its place in the communicator's order now, as the blocking one does.
   */
  private nonblocking<R>(method: (...args: never[]) => Promise<R>, call: string, args: unknown[]): Request<R> {
    this.callName = call;
    let running: Promise<R>;
    try {
      running = (method as (...a: unknown[]) => Promise<R>).apply(this, args);
    } finally {
      this.callName = null;
    }
    return Request._of(running);
  }

  /**
   * Checks arguments (rejecting at once, naming the call), then runs the call
   * under its own tag. Not async: the collective's own promise is returned,
   * one promise and its hops fewer per call. `root`, `op`, `buf` and
   * `blocks`: what every rank must agree on, carried by the call's messages
   * (coll/calls.ts callSignature; -1 and null: the call has none).
   */
  private collective<T>(blockingCall: string, check: () => void, algorithm: (ch: Channel) => Promise<T | Failure>,
    root = -1, op: Op | null = null, buf?: unknown, blocks = 1,
    onBoard?: () => BoardWork<T>): Promise<T> {
    const call = this.callName ?? blockingCall;
    this.callName = null;
    try {
      this.checkUsable(call);
    } catch (err) {
      return Promise.reject(err);
    }
    try {
      check();
    } catch (err) {
      if (err instanceof Error) err.message = `${call}: ${err.message}`;
      return Promise.reject(err);
    }
    if (this.board === undefined) this.openBoard();
    const tag = this.nextCollectiveTag();
    const signature = callSignature(call, root, op, buf, blocks);
    const engine = this.world.engine;
    if (this.board !== null) {
      if (engine.debugCalls) return engine.noteCollectiveCall(this.collContext, tag, () => this.onBoard(call, tag, algorithm, signature, onBoard));
      return this.onBoard(call, tag, algorithm, signature, onBoard);
    }
    // Under MPI4TS_DEBUG_CALLS hang reports say where the user called it; else no closure per call.
    if (engine.debugCalls) return engine.noteCollectiveCall(this.collContext, tag, () => runCollective(call, this, tag, algorithm, signature));
    return runCollective(call, this, tag, algorithm, signature);
  }

  /**
   * A call on a communicator with a board: its entry there, and its
   * messages' algorithm under the same tag when it runs by messages (a call
   * of another kind, or members whose entries disagree: coll/host.ts).
   */
  private onBoard<T>(call: string, tag: number, algorithm: (ch: Channel) => Promise<T | Failure>, signature: number,
    onBoard: (() => BoardWork<T>) | undefined): Promise<T> {
    const board = this.board;
    const byMessages = (mismatch?: BoardMismatch): Promise<T> => (mismatch === undefined
      ? runCollective(call, this, tag, algorithm, signature)
      : Promise.reject(mismatchFailure(mismatch, this.rank, this.collectivePlace(tag)).toError(call, this.rank)));
    if (board === null || board === undefined) return byMessages();
    if (board.declined) {
      this.world.closeHostBoard?.(board);
      this.board = null;
      return byMessages();
    }
    return board.run<T>(onBoard?.() ?? host.messagesWork, call, tag, signature, byMessages);
  }

  /**
   * At the first collective call: whether this communicator's calls meet on
   * the host's board. Only COMM_WORLD with every rank on this host and
   * offering shared memory is a candidate, which every rank judges alike from
   * the address table. Each rank said at start whether it mapped every local
   * peer's slot (and MPI4TS_HOST_COLL allows it): the board's first call
   * reads those words, and where one says no, every rank goes the messages'
   * way (p2p/host-board.ts). Other communicators go by messages: one slot
   * per rank serves one communicator.
   */
  private openBoard(): void {
    this.board = null;
    const world = this.world;
    if (this.contextId !== WORLD_CONTEXT_ID || this.size < 2 || this.peerGroup !== this.group || world.openHostBoard === undefined) return;
    const table = world.table;
    const hostOf = (member: number): string | undefined => table[member]?.hostId;
    const here = hostOf(this.group[0]!);
    if (here === undefined || !this.group.every((m) => hostOf(m) === here && (table[m]?.shmFd ?? -1) >= 0)) return;
    this.board = world.openHostBoard(this.collContext, this.group, this.rank, this.describe());
    if (this.board !== null) debug('rank %d: the small collectives of %s may meet in shared memory', world.rank, this.describe());
    // With a board its first call says whether every rank took it; without, this rank says no for itself.
    else publish('mpi4ts:coll:host-board', () => ({ rank: world.rank, comm: this.describe(), size: this.size, board: false }));
  }

  // ---- internals ----

  /**
   * @internal Where the call under collective tag `tag` stands, for errors:
   * "as collective #7 on COMM_WORLD" (coll/'s CollectiveEndpoint).
   */
  collectivePlace(tag: number): string {
    // Sequence numbers wrap at COLLECTIVE_SEQUENCE_TAGS (the number is right for the first 2^30 calls); createGroup's tags lie above.
    const which = tag < COLLECTIVE_SEQUENCE_TAGS ? `as collective #${tag + 1}` : `in createGroup with tag ${tag - COLLECTIVE_SEQUENCE_TAGS}`;
    return `${which} on ${this.describe()}`;
  }

  /** The communicator in words, for errors: COMM_WORLD, COMM_SELF, its name, or where it came from. */
  private describe(): string {
    if (this.contextId === WORLD_CONTEXT_ID) return 'COMM_WORLD';
    if (this.contextId === SELF_CONTEXT_ID) return 'COMM_SELF';
    if (this.commName !== '') return `the communicator "${this.commName}"`;
    return this.origin === null ? 'an unnamed communicator' : `a communicator from ${this.origin}`;
  }

  /** @internal Throws, naming the user's call, if the communicator was freed. */
  protected checkUsable(call: string): void {
    if (this.endedAs !== null) throw new MPIError('ERR_COMM', `${call}: ${this.endedAs}`);
  }

  /**
   * @internal Each rank's host as a small integer, the same on every rank
   * (the order of the hosts' first ranks), for the two-level collectives;
   * null where they gain nothing (one host, or one rank per host), for the
   * remote end of an intercommunicator, and with MPI4TS_TWO_LEVEL=0.
   */
  hostIndex(): readonly number[] | null {
    if (this.hosts !== undefined) return this.hosts;
    if (this.peerGroup !== this.group || !options().twoLevel) return (this.hosts = null);
    const table = this.world.table;
    const index = new Map<string, number>();
    this.hosts = this.group.map((world) => {
      const host = table[world]?.hostId ?? '';
      let i = index.get(host);
      if (i === undefined) index.set(host, (i = index.size));
      return i;
    });
    // One host, or one rank per host: two levels would be the flat algorithm, and a null spares every call the look.
    if (index.size < 2 || index.size === this.size) return (this.hosts = null);
    debug('rank %d: %s spans %d hosts: its collectives run in two levels (host, then leaders)', this.world.rank, this.name, index.size);
    return this.hosts;
  }

  /** @internal World rank of a peer's rank (one of this communicator, or of the remote group), or -1 for a wildcard. */
  worldRankOf(rank: number): number {
    return rank >= 0 ? this.peerGroup[rank]! : rank === PROC_NULL ? PROC_NULL : -1;
  }

  /*
   * send and ssend: start the send, wait for it, and turn a synchronous throw
   * (bad arguments) into a rejection. Arguments are passed on rather than
   * closed over: a closure would be an allocation per message.
   */
  private sendAndWait(call: string, value: unknown, dest: number, tag: number, sync: boolean): Promise<void> {
    try {
      return this.startSend(call, value, dest, tag, sync).wait();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** recv and recvInto: start the receive and wait for it, a synchronous throw as a rejection. */
  private receiveAndWait<T>(call: string, into: RawBuffer | typeof A_VALUE, source: number, tag: number, status: Status | undefined): Promise<T> {
    try {
      return this.startRecv<T>(call, into, source, tag).wait(status);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private startSend(call: string, value: unknown, dest: number, tag: number, sync: boolean): Request<void> {
    this.checkUsable(call);
    checkDest(dest, this.peerGroup.length, 'dest', call, this.peerSpace);
    checkSendTag(tag, 'tag', call);
    return this.world.engine.isend(this.pointToPointContext, this.rank, this.worldRankOf(dest), tag, value, sync, call);
  }

  /** bsend and ibsend: checks, then the buffered send of p2p/buffered.ts. */
  private startBufferedSend(call: string, value: unknown, dest: number, tag: number, request: Request<void>): Request<void> {
    const destWorld = this.checkedSend(call, dest, tag);
    return bufferedSend(this.world.engine, this.pointToPointContext, this.rank, destWorld, tag, value, call, request);
  }

  /** A send's checks; its destination's world rank. */
  private checkedSend(call: string, dest: number, tag: number): number {
    this.checkUsable(call);
    checkDest(dest, this.peerGroup.length, 'dest', call, this.peerSpace);
    checkSendTag(tag, 'tag', call);
    return this.worldRankOf(dest);
  }

  /**
   * sendrecv and sendrecvInto. Both halves' arguments first: a receive
   * posted before a bad send would wait for ever.
   */
  private exchange<T>(call: string, value: unknown, dest: number, sendtag: number, into: RawBuffer | typeof A_VALUE,
    source: number, recvtag: number, status: Status | undefined): Promise<T> {
    let receive: Request<T>;
    let send: Request<void>;
    try {
      this.checkUsable(call);
      checkDest(dest, this.peerGroup.length, 'dest', call, this.peerSpace);
      checkSendTag(sendtag, 'sendtag', call);
      receive = this.startRecv<T>(call, into, source, recvtag);
    } catch (err) {
      return Promise.reject(err);
    }
    try {
      send = this.startSend(call, value, dest, sendtag, false);
    } catch (err) {
      // The value cannot be encoded: take the receive back.
      receive.cancel();
      return Promise.reject(err);
    }
    return Promise.all([receive.wait(status), send.wait()]).then(([received]) => received);
  }

  private sendInitOf(call: string, value: unknown, dest: number, tag: number, sync: boolean): Prequest<void> {
    const destWorld = this.checkedSend(call, dest, tag);
    const starter: RoundStarter<void> = (request) => {
      this.checkUsable('start');
      this.world.engine.isend(this.pointToPointContext, this.rank, destWorld, tag, value, sync, `start (${call})`, 0, request);
    };
    return new Prequest<void>(call, starter);
  }

  private recvInitOf<T>(call: string, into: RawBuffer | typeof A_VALUE, source: number, tag: number): Prequest<T> {
    if (into !== A_VALUE) checkBuffer(into, 'buf', call);
    this.checkUsable(call);
    checkSource(source, this.peerGroup.length, 'source', call, this.peerSpace);
    checkRecvTag(tag, 'tag', call);
    const sourceWorld = this.worldRankOf(source);
    const target = into === A_VALUE ? null : into;
    const starter: RoundStarter<T> = (request) => {
      this.checkUsable('start');
      this.world.engine.irecv(this.pointToPointContext, source, sourceWorld, tag, target, `start (${call})`, 0, request as Request<unknown>);
    };
    return new Prequest<T>(call, starter);
  }

  /** mprobe and improbe: the probe's checks. */
  private checkMatchedProbe(call: string, source: number, tag: number): void {
    this.checkUsable(call);
    checkSource(source, this.peerGroup.length, 'source', call, this.peerSpace);
    checkRecvTag(tag, 'tag', call);
  }

  /**
   * `into`: the caller's buffer (checked: it may be anything), or A_VALUE for
   * a receive of a value. T is the caller's word for what arrives, as in
   * mpi4py: a buffer receive gives back `into`, a value receive what the
   * sender sent, which no type here can know.
   */
  private startRecv<T>(call: string, into: RawBuffer | typeof A_VALUE, source: number, tag: number): Request<T> {
    if (into !== A_VALUE) checkBuffer(into, 'buf', call);
    this.checkUsable(call);
    checkSource(source, this.peerGroup.length, 'source', call, this.peerSpace);
    checkRecvTag(tag, 'tag', call);
    return this.world.engine.irecv(this.pointToPointContext, source, this.worldRankOf(source), tag,
      into === A_VALUE ? null : into, call) as Request<T>;
  }
}

export interface CartInit extends CommInit, Grid {}

/** A communicator whose ranks sit on a grid (MPI 4.1 section 8.5); the grid math is in cart.ts. */
export class CartComm extends Comm {
  /** Extent of each dimension. */
  readonly dims: readonly number[];
  /** Whether each dimension wraps around. */
  readonly periods: readonly boolean[];
  /** This rank's coordinates. */
  readonly coords: readonly number[];

  /** @internal Cartesian communicators come from `comm.createCart`. */
  constructor(init: CartInit) {
    super(init);
    this.dims = Object.freeze([...init.dims]);
    this.periods = Object.freeze([...init.periods]);
    this.coords = Object.freeze(coordsOf(this, this.rank));
  }

  get ndims(): number {
    return this.dims.length;
  }

  /** The coordinates of `rank` (MPI_Cart_coords). */
  getCoords(rank: number): number[] {
    return coordsOf(this, rank);
  }

  /**
   * The rank at `coords` (MPI_Cart_rank). Out-of-range coordinates wrap in a
   * periodic dimension and are an error in the others.
   */
  getCartRank(coords: readonly number[]): number {
    return rankAt(this, coords);
  }

  /**
   * The neighbours for a shift of `disp` along `direction` (MPI_Cart_shift):
   * `[source, dest]`, where this rank receives from `source` and sends to
   * `dest`. Off the edge of a non-periodic dimension the neighbour is PROC_NULL.
   */
  shift(direction: number, disp = 1): [source: number, dest: number] {
    this.checkUsable('shift');
    return shiftNeighbours(this, this.coords, direction, disp);
  }
}

/** A matched probe of PROC_NULL (MPI 4.1 section 3.8.2): MESSAGE_NO_PROC, status source PROC_NULL. */
function noProcMessage(status: Status | undefined): Message {
  if (status !== undefined) {
    status.source = PROC_NULL;
    status.tag = ANY_TAG;
    status.count = 0;
  }
  return MESSAGE_NO_PROC;
}

/** What a receive of a value (recv, irecv) passes where a buffer receive passes the caller's buffer. */
const A_VALUE = Symbol('a value, not a buffer');

/** The object of a new plain communicator, for the creations in create.ts. */
function newComm(init: CommInit): Comm {
  return new Comm(init);
}

/** The root of a spawn, which every rank can check (MPI_ERR_ROOT... MPI names ERR_ROOT for it too). */
function checkSpawnRoot(call: string, root: unknown, size: number): void {
  if (typeof root === 'number' && Number.isInteger(root) && root >= 0 && root < size) return;
  throw new MPIError('ERR_ROOT', `${call}: root ${show(root)} is out of range for a communicator of size ${size} (0..${size - 1})`);
}

/** The operand of a reduction or a gather on buffers: sendbuf, or with IN_PLACE recvbuf (MPI's rule). */
function operandOf(sendbuf: unknown, recvbuf: unknown): unknown {
  return sendbuf === IN_PLACE ? recvbuf : sendbuf;
}

/** An Intercomm (intercomm.ts), told apart without importing its class at run time: comm.ts is imported by it. */
function isIntercomm(other: unknown): other is Intercomm {
  return typeof other === 'object' && other !== null && (other as { isInter?: unknown }).isInter === true;
}

