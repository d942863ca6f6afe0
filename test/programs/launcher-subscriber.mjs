// Loaded into `mpi4ts run` with --import: prints what the launcher publishes on
// its diagnostics channel, one JSON line per rank that ended, on stderr.
import diagnostics_channel from 'node:diagnostics_channel';

diagnostics_channel.subscribe('mpi4ts:launcher:rank-exit', (message) => {
  process.stderr.write(`rank-exit ${JSON.stringify(message)}\n`);
});
