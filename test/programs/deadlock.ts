// Programs that hang, deadlock or only look as if they might, for the hang
// report and the deadlock check (test/launcher/hang.test.ts, deadlock.test.ts).
// argv[2] is the case:
//   pairs       each rank receives from its partner (rank ^ 1), tag 2: head-to-head
//   cycle       each rank receives from the next one, (rank + 1) % size
//   tag         rank 0 sends tag 3 to rank 1, then both receive tag 2 from each other
//   collective  every rank but the last calls barrier; the last receives from rank 0
//   timer       rank 1 receives from rank 0, which first waits 3 s on a timer of its own
//   busy        as timer, but rank 0 computes (a busy loop) for 5 s
//   correct     a ring exchange, 120 rounds with a 20 ms sleep between (about 3 s)
//   sleepy      rank 1 receives from rank 0 (tag 5), which sleeps 4 s first; ready lines first
//   ended       rank 1 posts irecv(0, tag 9) and ends without waiting for it; rank 0 sleeps 4 s, sends nothing
//   waited      as ended, but rank 0 sends tag 9 after 1 s and rank 1 waits for its request
//   freed       as waited, but rank 1 frees its request (MPI_Request_free) and ends: allowed
//   computed    rank 1 receives tag 1, computes 2 s, then receives tag 8, which rank 0 sends 5 s later
import * as MPI from 'mpi4ts';
import { setTimeout as sleep } from 'node:timers/promises';

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const mode = process.argv[2];

switch (mode) {
  case 'pairs':
    await comm.recv(rank ^ 1, 2);
    break;
  case 'cycle':
    await comm.recv((rank + 1) % size, 2);
    break;
  case 'tag':
    if (rank === 0) await comm.send('wrong tag', 1, 3);
    await comm.recv(1 - rank, 2);
    break;
  case 'collective':
    if (rank === size - 1) await comm.recv(0, 7);
    else await comm.barrier();
    break;
  case 'timer':
  case 'busy':
    if (rank === 0) {
      if (mode === 'timer') {
        await sleep(3000);
      } else {
        const end = Date.now() + 5000;
        let spins = 0;
        while (Date.now() < end) spins++;
        if (spins < 0) console.log(spins);
      }
      await comm.send('done', 1, 4);
    } else if (rank === 1) {
      console.log(`got ${String(await comm.recv(0, 4))}`);
    }
    break;
  case 'correct': {
    // A fixed number of rounds: a loop that ran until a time each rank reads for itself could let
    // one rank start a round its neighbours have stopped doing (a real deadlock, which the check found).
    let rounds = 0;
    while (rounds < 120) {
      const [, got] = await Promise.all([comm.send(rounds, (rank + 1) % size, 1), comm.recv((rank + size - 1) % size, 1)]);
      if (got !== rounds) throw new Error(`round ${rounds}: got ${String(got)}`);
      rounds++;
      await sleep(20);
    }
    await comm.barrier();
    if (rank === 0) console.log('correct done');
    break;
  }
  case 'sleepy':
    console.log(`ready ${rank}`);
    if (rank === 0) {
      await sleep(4000);
      await comm.send('late', 1, 5);
    } else if (rank === 1) {
      console.log(`got ${String(await comm.recv(0, 5))}`);
    }
    break;
  case 'ended':
  case 'waited':
  case 'freed':
    if (rank === 0) {
      if (mode === 'ended') await sleep(4000);
      else await sleep(mode === 'freed' ? 2500 : 1000).then(() => comm.send('late', 1, 9));
    } else if (rank === 1) {
      const request = comm.irecv(0, 9);
      if (mode === 'waited') console.log(`got ${String(await request)}`);
      if (mode === 'freed') request.free();
    }
    break;
  case 'computed':
    console.log(`ready ${rank}`);
    if (rank === 0) {
      await comm.send('first', 1, 1);
      await sleep(5000);
      await comm.send('second', 1, 8);
    } else if (rank === 1) {
      await comm.recv(0, 1);
      const end = Date.now() + 2000;
      let spins = 0;
      while (Date.now() < end) spins++;
      if (spins < 0) console.log(spins);
      console.log(`got ${String(await comm.recv(0, 8))}`);
    }
    break;
  default:
    throw new Error(`unknown case ${String(mode)}`);
}
