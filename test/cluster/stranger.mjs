// A stranger on the cluster network: for each ROLE:HOST:PORT given, connects once
// with garbage and once with a well-formed hello (claiming rank 1) followed by
// a wrong key proof, and (for a rank) once saying nothing at all, and reports on stdout what
// the rank did with each, as JSON. Run inside a cluster host (cluster.sh run).
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { setTimeout, clearTimeout } from 'node:timers';

const MAGIC = Buffer.from('MPI4TSv1', 'latin1');

function poke(host, port, first, afterReply) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = 0;
    let replied = false;
    const timer = setTimeout(() => { socket.destroy(); resolve({ closedByRank: false, received }); }, 15000);
    socket.on('connect', () => socket.write(first));
    socket.on('data', (chunk) => {
      received += chunk.length;
      if (!replied && afterReply !== null && received >= 60) {
        replied = true;
        socket.write(afterReply);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => { clearTimeout(timer); resolve({ closedByRank: true, received }); });
  });
}

/** ROLE:HOST:PORT, ROLE "rank" or "launcher"; the launcher is not asked to time out silence. */
async function strangers(target) {
  const [role, ...rest] = target.split(':');
  const address = rest.join(':');
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  const hello = Buffer.alloc(28);
  MAGIC.copy(hello, 0);
  hello.writeUInt32LE(1, 8);
  randomBytes(16).copy(hello, 12);
  const [garbage, wrongKey, silent] = await Promise.all([
    poke(host, port, randomBytes(200), null),
    poke(host, port, hello, randomBytes(32)),
    role === 'rank' ? poke(host, port, Buffer.alloc(0), null) : null,
  ]);
  return { target: address, role, garbage, wrongKey, silent };
}

const results = await Promise.all(process.argv.slice(2).map(strangers));
process.stdout.write(`${JSON.stringify(results)}\n`);
