// The task of bench/pool-mpi4ts.ts: nothing, so that the figure is the pool's own cost per task.
export function noop(): void {}
