#!/usr/bin/env node
/** The `mpi4ts` command: run | info | bench | doctor | init | --version | --help. */
import { UsageError, VERSION } from '../base/index.js';
import { REMOTE_RANK_COMMAND } from '../launcher/index.js';

const HELP = `mpi4ts ${VERSION}: MPI for TypeScript

Usage:
  mpi4ts run -n N [options] script.ts [args...]   start N ranks of a program
  mpi4ts run -n 1 a.ts : -n 3 b.ts                several programs in one job (MPMD)
  mpi4ts info                                     versions, transports, environment
  mpi4ts bench TEST [options]                     OSU micro-benchmarks (latency, bw, bibw, allreduce, ...)
  mpi4ts doctor [-f FILE | --host LIST] [prog.ts]  check hosts, ssh, versions and ports before a job
  mpi4ts init [dir]                               a starter project: ES module package.json, tsconfig, hello.ts
  mpi4ts --version

Run "mpi4ts run --help" for the options of run, "mpi4ts doctor --help" for doctor's.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    // Each command loads only its own modules: `run` and the remote wrapper
    // are on the start-up path of every job, and need none of bench's or doctor's.
    case 'run':
      return (await import('./run.js')).runCommand(rest);
    case 'info':
      return (await import('./info.js')).infoCommand(rest);
    case REMOTE_RANK_COMMAND:
      // Internal: the far end of an ssh-started rank (launcher/remote-rank.ts).
      return (await import('../launcher/index.js')).remoteRankMain();
    case 'bench':
      return (await import('./bench.js')).benchCommand(rest);
    case 'doctor':
      return (await import('./doctor.js')).doctorCommand(rest);
    case 'init':
      return (await import('./init.js')).initCommand(rest);
    case '--version':
    case '-V':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"; commands are run, info, bench, doctor, init (see mpi4ts --help)`);
  }
}

/**
 * A reader that goes away (`mpi4ts run ... | head`) must not crash the
 * launcher with a stack trace and orphan the job: what would have gone to it
 * is dropped, and the job runs on and exits with its own code.
 */
function dropOutputWhenReaderCloses(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
    throw err;
  });
}

dropOutputWhenReaderCloses(process.stdout);
dropOutputWhenReaderCloses(process.stderr);

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  if (err instanceof UsageError || (err instanceof Error && (err as { code?: string }).code?.startsWith('MPI4TS'))) {
    process.stderr.write(`mpi4ts: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`mpi4ts: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(70);
});
