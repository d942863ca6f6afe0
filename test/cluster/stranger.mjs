// A stranger on the cluster network: for each ROLE:HOST:PORT given, connects once
// with garbage and once with a well-formed hello (claiming rank 1) with a wrong
// key proof, and (for a rank) once saying nothing at all, and reports on stdout what
// the rank did with each, as JSON. Run inside a cluster host (cluster.sh run).
//
// With --flood N MIB first, it instead opens N connections to each target at once,
// each writing MIB MiB of bytes without a newline, and reports how many bytes
// each target took before closing it (JSON: [{ target, connections, closed, maxTaken }]).
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { setTimeout, clearTimeout } from 'node:timers';

const MAGIC = Buffer.from('MPI4TSv2', 'latin1');

function poke(host, port, first, afterReply) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = 0;
    let replied = false;
    const timer = setTimeout(() => { socket.destroy(); resolve({ closedByRank: false, received }); }, 15000);
    socket.on('connect', () => socket.write(first));
    socket.on('data', (chunk) => {
      received += chunk.length;
      if (!replied && afterReply !== null && received >= 44) {
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
  // magic, claimed rank 1, the rank it means to reach, a nonce, a proof made without the key.
  const hello = Buffer.alloc(64);
  MAGIC.copy(hello, 0);
  hello.writeUInt32LE(1, 8);
  hello.writeUInt32LE(0, 12);
  randomBytes(48).copy(hello, 16);
  const [garbage, wrongKey, silent] = await Promise.all([
    poke(host, port, randomBytes(200), null),
    poke(host, port, role === 'rank' ? hello : Buffer.from(`{"t":"hello","rank":1,"nonce":"${randomBytes(16).toString('hex')}","proof":"00","address":{}}\n`), null),
    role === 'rank' ? poke(host, port, Buffer.alloc(0), null) : null,
  ]);
  return { target: address, role, garbage, wrongKey, silent };
}

/** N connections to one target, each writing `mib` MiB without a newline as fast as the target takes it. */
async function flood(target, count, mib) {
  const [, ...rest] = target.split(':');
  const address = rest.join(':');
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  const chunk = Buffer.alloc(1024 * 1024, 0x7b);
  const one = () => new Promise((resolve) => {
    const socket = connect({ host, port });
    let written = 0;
    let closed = false;
    const timer = setTimeout(() => { socket.destroy(); resolve({ closed, written }); }, 60000);
    const pump = () => {
      while (written < mib * chunk.length && !socket.destroyed) {
        written += chunk.length;
        if (!socket.write(chunk)) return;
      }
    };
    socket.on('connect', pump);
    socket.on('drain', pump);
    socket.on('error', () => {});
    socket.on('close', () => { closed = true; clearTimeout(timer); resolve({ closed, written }); });
  });
  const results = await Promise.all(Array.from({ length: count }, one));
  return { target: address, connections: count, closed: results.filter((r) => r.closed).length,
    maxTaken: Math.max(...results.map((r) => r.written)) };
}

const args = process.argv.slice(2);
if (args[0] === '--flood') {
  const [, count, mib, ...targets] = args;
  const results = await Promise.all(targets.map((t) => flood(t, Number(count), Number(mib))));
  process.stdout.write(`${JSON.stringify(results)}\n`);
} else {
  const results = await Promise.all(args.map(strangers));
  process.stdout.write(`${JSON.stringify(results)}\n`);
}
