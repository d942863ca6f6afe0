// A job of 2 in which rank 1 is not an mpi4ts program but speaks the protocols
// itself, with the job key the launcher gave it: it joins through the control
// connection, proves the key to rank 0 as a real rank does, and then sends the
// frame that argv[2] names, on the path argv[3] names (unix, tcp or shm: the
// shared-memory ring). test/reliability/frames.probe.ts checks that rank 0
// closes that connection, names it, and ends the job (or, for "valid",
// receives the message and finishes).
//
// Rank 0 is an ordinary program waiting for a message from rank 1.
import { connect, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Buffer } from 'node:buffer';
import { setTimeout } from 'node:timers';

const ROOT = new URL('../../dist/', import.meta.url).href;
const rank = Number(process.env.MPI4TS_RANK);
const [caseName = 'valid', path = 'tcp'] = process.argv.slice(2);

if (rank === 0) {
  const MPI = await import('mpi4ts');
  console.log('ready 0');
  const got = await MPI.COMM_WORLD.recv(1, 77);
  console.log(`rank 0 got ${JSON.stringify(got)}`);
} else {
  await evil();
}

async function evil() {
  const { clientHello, checkServerHello, HelloChecker, SERVER_HELLO_BYTES, encodeHeader, newHeader, FrameKind, HEADER_BYTES } =
    await import(`${ROOT}transport/index.js`);
  const { proofOf, encodeControl, LineDecoder } = await import(`${ROOT}wire/index.js`);
  const { hostIdentity } = await import(`${ROOT}runtime/host.js`);
  const key = Buffer.from(process.env.MPI4TS_JOB_KEY, 'hex');

  // A listener that answers key proofs as a rank's does, and ignores what follows.
  const checker = new HelloChecker(key, 1, 2);
  const accept = (socket) => {
    socket.on('error', () => {});
    let hello = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      if (hello === null) return;
      hello = Buffer.concat([hello, chunk]);
      if (hello.length < 64) return;
      socket.write(checker.check(hello.subarray(0, 64)).reply);
      hello = null;
    });
  };
  const tcp = createServer(accept);
  await new Promise((r) => tcp.listen(0, '127.0.0.1', r));
  const unixPath = `\0mpi4ts-evil-${process.pid}-${randomBytes(8).toString('hex')}`;
  const unix = createServer(accept);
  await new Promise((r) => unix.listen(unixPath, r));

  let shmFd = -1;
  let shm = null;
  if (path === 'shm') {
    const { loadShmLib, OwnInbox } = await import(`${ROOT}transport/shm-segment.js`);
    const lib = loadShmLib();
    const inbox = OwnInbox.create(lib, 1);
    shmFd = inbox.fd;
    shm = { lib, inbox };
  }

  // The control connection: hello with the key proof, then the table.
  const [host, port] = [process.env.MPI4TS_CONTROL.replace(/:\d+$/, ''), Number(process.env.MPI4TS_CONTROL.replace(/^.*:/, ''))];
  const control = connect({ host, port });
  await new Promise((r) => control.once('connect', r));
  const nonce = randomBytes(16).toString('hex');
  const address = {
    rank: 1, host: hostname(), hostId: hostIdentity(), tcpHost: '127.0.0.1', tcpPort: tcp.address().port,
    unixPath, pid: process.pid, shmFd,
  };
  const table = await new Promise((resolve) => {
    const decoder = new LineDecoder((m) => {
      if (m.t === 'welcome') resolve(m.table);
      if (m.t === 'finalized') process.exit(0);
    });
    control.on('data', (chunk) => decoder.push(chunk));
    control.write(encodeControl({ t: 'hello', rank: 1, nonce, address, proof: proofOf(key, 'ctl-C', nonce, 1).toString('hex') }));
  });
  const peer = table[0];
  if (shm !== null) shm.inbox.open(1, (await import(`${ROOT}transport/shm-segment.js`)).inboxToken(key, 1, process.pid), 1, 1024 * 1024);

  // A proven connection to rank 0, as its peers make.
  const socket = path === 'tcp' || peer.unixPath === '' ? connect({ host: peer.tcpHost, port: peer.tcpPort }) : connect({ path: peer.unixPath });
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  const { hello, nonce: n } = clientHello(key, 1, 0);
  socket.write(hello);
  const reply = await new Promise((resolve) => {
    let got = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= SERVER_HELLO_BYTES) resolve(got);
    });
  });
  checkServerHello(reply.subarray(0, SERVER_HELLO_BYTES), key, n, 1, 0);

  const frame = (fields, payload = Buffer.alloc(0)) => {
    const h = Object.assign(newHeader(), { kind: FrameKind.EAGER, source: 1, payloadType: 16, length: payload.length }, fields);
    return Buffer.concat([encodeHeader(h), payload]);
  };
  const raw = (edit) => {
    const b = frame({ tag: 77 }, Buffer.from('hi'));
    edit(b);
    return b;
  };
  const cases = {
    // A well-formed message: the harness itself works.
    valid: () => frame({ tag: 77 }, Buffer.from('hello')),
    version: () => raw((b) => { b[0] = 9; }),
    kind: () => raw((b) => { b[1] = 99; }),
    length40: () => raw((b) => { b.writeUInt32LE(0, 24); b.writeUInt32LE(256, 28); }),
    eagerTooLarge: () => frame({ tag: 77, length: 256 * 1024 * 1024 }),
    rtsLength40: () => raw((b) => { b[1] = FrameKind.RTS; b.writeUInt32LE(0, 24); b.writeUInt32LE(256, 28); }),
    source: () => frame({ tag: 77, source: 99 }, Buffer.from('hi')),
    impostor: () => frame({ tag: 77, source: 0 }, Buffer.from('hi')),
    tag: () => frame({ tag: -5 }, Buffer.from('hi')),
    context: () => frame({ tag: 77, context: 99999 }, Buffer.from('hi')),
    float64of7: () => frame({ tag: 77, payloadType: 9 }, Buffer.alloc(7)),
    payloadType: () => frame({ tag: 77, payloadType: 200 }, Buffer.from('hi')),
    numberOf3: () => frame({ tag: 77, payloadType: 15 }, Buffer.alloc(3)),
    unknownCts: () => frame({ kind: FrameKind.CTS, rendezvousId: 4242 }),
    unknownData: () => frame({ kind: FrameKind.DATA, rendezvousId: 4242, payloadType: 0 }, Buffer.alloc(10)),
    unknownWritten: () => frame({ kind: FrameKind.WRITTEN, rendezvousId: 4242, payloadType: 0 }),
    unknownReadFrom: () => frame({ kind: FrameKind.READ_FROM, rendezvousId: 4242, payloadType: 0, length: 4096 }),
    unknownReadDone: () => frame({ kind: FrameKind.READ_DONE, rendezvousId: 4242, payloadType: 0 }),
    credit: () => frame({ kind: FrameKind.CREDIT, payloadType: 0, length: 1 << 30 }),
    afterBye: () => Buffer.concat([frame({ kind: FrameKind.BYE, payloadType: 0 }), frame({ tag: 77 }, Buffer.from('hi'))]),
    truncatedHeader: () => frame({ tag: 77 }, Buffer.from('hi')).subarray(0, 20),
    midFrame: () => frame({ tag: 77 }, Buffer.alloc(100)).subarray(0, HEADER_BYTES + 10),
  };
  if (caseName === 'duplicate') {
    // A frame on the first connection, then a second proven connection claiming the same rank.
    socket.write(frame({ tag: 78 }, Buffer.from('first')));
    await new Promise((r) => setTimeout(r, 200));
    const second = path === 'tcp' || peer.unixPath === '' ? connect({ host: peer.tcpHost, port: peer.tcpPort }) : connect({ path: peer.unixPath });
    second.on('error', () => {});
    second.on('connect', () => second.write(clientHello(key, 1, 0).hello));
    return;
  }
  const bytes = cases[caseName]();
  const closesAfter = caseName === 'truncatedHeader' || caseName === 'midFrame';
  if (shm === null) {
    socket.write(bytes);
    // The frame ends in the middle: this rank's process goes, as a crashed sender's would.
    if (closesAfter) setTimeout(() => process.exit(0), 200);
    if (caseName === 'valid') control.write(encodeControl({ t: 'finalize', rank: 1 }));
    return;
  }
  const { attachInbox, inboxToken } = await import(`${ROOT}transport/shm-segment.js`);
  const { RingWriter } = await import(`${ROOT}transport/shm-ring.js`);
  const inbox = attachInbox(shm.lib, peer.pid, peer.shmFd, 0, inboxToken(key, 0, peer.pid), 1, 1024 * 1024, 0);
  const ring = new RingWriter(inbox.ring(0)).ring;
  for (let done = 0; done < bytes.length;) done += ring.write(bytes.subarray(done));
  // Wake rank 0 should it sleep: a doorbell on the socket.
  socket.write(frame({ kind: FrameKind.DOORBELL, payloadType: 0 }));
  if (closesAfter) setTimeout(() => process.exit(0), 200);
  if (caseName === 'valid') control.write(encodeControl({ t: 'finalize', rank: 1 }));
}
