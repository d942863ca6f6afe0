// Termination detection without knowing who sends to you: the NBX pattern
// (Hoefler, Siebert and Lumsdaine, "Scalable communication protocols for
// dynamic sparse data exchange", 2010), in mpi4py:
//     reqs = [comm.issend(msg, dest=d) for d in dests]; barrier = None
//     while True:
//         if comm.iprobe(): comm.recv() ...
//         if barrier is None and MPI.Request.Testall(reqs): barrier = comm.Ibarrier()
//         elif barrier is not None and barrier.Test(): break
// Each rank sends a message to each of a few peers it draws at random (seeded,
// so a run can be repeated) with issend, which completes only once a receive
// has matched it. Then it polls: it keeps a receive posted for anyone's
// message, retires its sends one by one as Request.testany finds them done,
// and when all have been matched enters ibarrier; it keeps receiving until the
// barrier completes, which happens only when every rank's sends have been
// matched: then no message is still on its way. Every rank knows the seeds,
// so it checks that it got exactly the messages addressed to it, each once,
// and an allreduce adds up the messages sent and received.
// Run it with: npx mpi4ts run -n 4 examples/termination.ts
import * as MPI from 'mpi4ts';

const TAG = 7;
const MAX_PEERS = 4;

interface Note {
  from: number;
  seq: number;
}

/** A small seeded generator (mulberry32): the same draws on every rank for a given seed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The peers `rank` sends to, in order (one message each; a peer may come twice, or be the rank itself). */
function destinations(rank: number, size: number): number[] {
  const draw = generator(1000 + rank);
  const count = 1 + Math.floor(draw() * MAX_PEERS);
  return Array.from({ length: count }, () => Math.floor(draw() * size));
}

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;

const mine = destinations(rank, size);
const sends = mine.map((dest, seq) => comm.issend({ from: rank, seq } satisfies Note, dest, TAG));
const received: Note[] = [];
let posted = comm.irecv<Note>(MPI.ANY_SOURCE, TAG);
let barrier: MPI.Request<void> | null = null;
let polls = 0;

for (;;) {
  polls++;
  let progressed = false;
  const got = posted.test();
  if (got.done) {
    received.push(got.value!);
    posted = comm.irecv<Note>(MPI.ANY_SOURCE, TAG);
    progressed = true;
  }
  if (barrier === null) {
    // One finished send at a time, as MPI_Testany; drop it from the list (MPI sets it to REQUEST_NULL).
    const finished = MPI.Request.testany(sends);
    if (finished.index >= 0) {
      sends.splice(finished.index, 1);
      progressed = true;
    }
    if (sends.length === 0) barrier = comm.ibarrier();
  } else if (barrier.test().done) {
    break;
  }
  // Between polls a real program computes. This one has nothing to do, so when
  // nothing moved it awaits the next completion of any request it holds rather
  // than spin: on a host with more ranks than cores a spinning rank takes the
  // core its peers need to answer it. Requests complete only while the event
  // loop turns, so a polling loop must await something here in any case.
  if (!progressed) await MPI.Request.waitany<unknown>([posted, ...(barrier === null ? sends : [barrier])]);
}
// Every message was matched before the barrier completed, so the last posted
// receive matched one in that last turn or will never match: take it back.
if (!posted.cancel()) received.push(await posted);

// Every rank draws every rank's destinations, so it knows exactly what it should get.
const expected = new Set<string>();
for (let r = 0; r < size; r++) destinations(r, size).forEach((dest, seq) => { if (dest === rank) expected.add(`${r}:${seq}`); });
const problems: string[] = [];
const seen = new Set<string>();
for (const note of received) {
  const key = `${note.from}:${note.seq}`;
  if (seen.has(key)) problems.push(`message ${key} arrived twice`);
  else if (!expected.has(key)) problems.push(`message ${key} was not addressed to rank ${rank}`);
  seen.add(key);
}
for (const key of expected) if (!seen.has(key)) problems.push(`message ${key} never arrived`);

const totals = await comm.allreduce(Int32Array.of(mine.length, received.length, problems.length), MPI.SUM);
const [sent, got, failures] = [totals[0]!, totals[1]!, totals[2]!];
if (problems.length > 0) console.error(`termination: wrong result on rank ${rank}: ${problems.slice(0, 5).join('; ')}`);
if (rank === 0) {
  if (failures > 0 || sent !== got) {
    console.error(`termination: wrong result: ${sent} messages sent, ${got} received, ${failures} problem(s)`);
    process.exitCode = 1;
  } else {
    console.log(`termination on ${size} rank(s): ${sent} messages sent with issend, ${got} received, each exactly once; ` +
      `rank 0 polled ${polls} times before ibarrier completed`);
  }
} else if (problems.length > 0) {
  process.exitCode = 1;
}
