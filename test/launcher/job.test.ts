/**
 * The launcher's Job with ranks that are not processes: a fake starter whose
 * "ranks" speak the real control protocol in this process (a ControlClient
 * each) and end when the test says, in the order the test picks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Job, type RankExit, type RankProcess, type RankSpec, type Starter } from '../../src/launcher/index.js';
import { ControlClient, type PeerAddress } from '../../src/wire/index.js';

interface FakeRank {
  client: ControlClient;
  /** Ends the fake process with this exit. */
  exit(how: RankExit): void;
}

/** Starts fake ranks that join the job's control server; `ranks` fills in as they join. */
function fakeStarter(ranks: Map<number, Promise<FakeRank>>): Starter {
  return {
    start(spec: RankSpec): RankProcess {
      let exit!: (how: RankExit) => void;
      const exited = new Promise<RankExit>((resolve) => { exit = resolve; });
      const [host, port] = spec.env.MPI4TS_CONTROL!.split(':') as [string, string];
      ranks.set(spec.rank, (async () => {
        const client = await ControlClient.connect({
          host, port: Number(port), rank: spec.rank, size: Number(spec.env.MPI4TS_SIZE), key: Buffer.from(spec.env.MPI4TS_JOB_KEY!, 'hex'),
          label: 'ctl', server: 'the launcher', addressFrom: '', connectForMs: 0, proofHint: '', closeHint: '', onLost: () => {},
        });
        return { client, exit };
      })());
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      void exited.then(() => {
        stdout.end();
        stderr.end();
      });
      return { rank: spec.rank, host: spec.host, pid: 1000 + spec.rank, stdout, stderr, stdin: null, exited, localGroup: Promise.resolve(undefined), kill: () => {} };
    },
  };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function address(rank: number): PeerAddress {
  return { rank, host: 'h', hostId: 'h', tcpHost: '127.0.0.1', tcpPort: 1, unixPath: '', pid: 1 };
}

/** Runs a job of `size` fake ranks; `script` ends them; resolves with the exit code and what the launcher said. */
async function runJob(size: number, script: (ranks: FakeRank[]) => Promise<void>): Promise<{ code: number; said: string }> {
  const ranks = new Map<number, Promise<FakeRank>>();
  const job = new Job({
    placements: Array.from({ length: size }, (_, rank) => ({ rank, host: rank === 0 ? 'localhost' : `node${rank}` })),
    command: ['fake'], cwd: '/', env: {}, tagOutput: false, timeoutSeconds: 30,
    starterFor: () => fakeStarter(ranks), controlBind: '127.0.0.1', controlAdvertise: '127.0.0.1',
  });
  const said: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((text: string) => said.push(text) > 0) as typeof process.stderr.write;
  try {
    const running = job.run();
    while (ranks.size < size) await pause(5);
    const fakes = await Promise.all([...ranks.keys()].sort().map((rank) => ranks.get(rank)!));
    await Promise.all(fakes.map((f, rank) => f.client.exchange(address(rank))));
    await script(fakes);
    return { code: await running, said: said.join('') };
  } finally {
    process.stderr.write = write;
  }
}

test('a rank that fails because another died is not blamed when the dead one\'s control connection closed first', async () => {
  const { code, said } = await runJob(2, async ([zero, one]) => {
    // Rank 1 is killed: its connections close at once, its exit report (over ssh) comes later.
    one!.client.close();
    await pause(50);
    // Rank 0's receive from it fails, and rank 0 exits first.
    zero!.exit({ code: 1, signal: null });
    zero!.client.close();
    await pause(300);
    one!.exit({ code: null, signal: 'SIGKILL' });
  });
  assert.equal(code, 137);
  assert.equal(said, 'mpi4ts: rank 1 (node1, pid 1001) was killed by signal SIGKILL; stopping the job\n');
});

test('without a lost rank, a failure is reported at once; a lost rank that never reports lets the held failure through', async () => {
  const direct = await runJob(2, async ([zero, one]) => {
    zero!.exit({ code: 3, signal: null });
    one!.exit({ code: null, signal: 'SIGTERM' });
  });
  assert.equal(direct.code, 3);
  assert.equal(direct.said, 'mpi4ts: rank 0 (localhost, pid 1000) exited with code 3; stopping the job\n');
  const started = Date.now();
  const held = await runJob(2, async ([zero, one]) => {
    one!.client.close();
    await pause(50);
    zero!.exit({ code: 1, signal: null });
    // Rank 1's report never comes until the job stops it.
    await pause(1500);
    one!.exit({ code: null, signal: 'SIGTERM' });
  });
  assert.equal(held.code, 1);
  assert.equal(held.said, 'mpi4ts: rank 0 (localhost, pid 1000) exited with code 1; stopping the job\n');
  assert.ok(Date.now() - started >= 1000);
});

test('the rank whose control connection closed first is blamed, whichever exit report comes first', async () => {
  const { code, said } = await runJob(3, async ([zero, one, two]) => {
    // Rank 1 is killed; rank 0's receive from it fails and rank 0 closes its connection as it exits.
    one!.client.close();
    await pause(50);
    zero!.client.close();
    await pause(50);
    // The killed rank's report comes first here, rank 0's just after: rank 1 is still the cause.
    one!.exit({ code: null, signal: 'SIGKILL' });
    zero!.exit({ code: 1, signal: null });
    two!.exit({ code: null, signal: 'SIGTERM' });
  });
  assert.equal(code, 137);
  assert.equal(said, 'mpi4ts: rank 1 (node1, pid 1001) was killed by signal SIGKILL; stopping the job\n');
});

test('a held failure is reported as soon as the rank it waits for ends cleanly, and a later cause does not displace an earlier one', async () => {
  const started = Date.now();
  const clean = await runJob(2, async ([zero, one]) => {
    one!.client.close();
    await pause(50);
    zero!.exit({ code: 2, signal: null });
    await pause(50);
    one!.exit({ code: 0, signal: null });
  });
  assert.equal(clean.code, 2);
  assert.equal(clean.said, 'mpi4ts: rank 0 (localhost, pid 1000) exited with code 2; stopping the job\n');
  assert.ok(Date.now() - started < 900, 'not held for the whole grace');
  const earlier = await runJob(3, async ([zero, one, two]) => {
    one!.client.close();
    await pause(50);
    two!.client.close();
    await pause(50);
    // Rank 0 fails, held for ranks 1 and 2; rank 2 reports first, but rank 1 lost its connection earlier still.
    zero!.exit({ code: 1, signal: null });
    two!.exit({ code: 4, signal: null });
    await pause(50);
    one!.exit({ code: null, signal: 'SIGKILL' });
  });
  assert.equal(earlier.code, 137);
  assert.equal(earlier.said, 'mpi4ts: rank 1 (node1, pid 1001) was killed by signal SIGKILL; stopping the job\n');
});

test('a rank that says it lost a peer before it fails makes that peer the cause, though the peer\'s own connection closes later', async () => {
  const { code, said } = await runJob(2, async ([zero, one]) => {
    // Under load the launcher may see rank 0's connection close before the killed rank 1's.
    zero!.client.peerLost(1);
    zero!.client.close();
    await pause(50);
    one!.client.close();
    zero!.exit({ code: 1, signal: null });
    await pause(50);
    one!.exit({ code: null, signal: 'SIGKILL' });
  });
  assert.equal(code, 137);
  assert.equal(said, 'mpi4ts: rank 1 (node1, pid 1001) was killed by signal SIGKILL; stopping the job\n');
});
