/**
 * What a task pool's submitter and its workers say to each other over their
 * intercommunicator (DESIGN.md "Task pools"): every kind, typed here. The
 * values are mpi4ts values (arrays, so the plain codec writes them quickly),
 * and the typed arrays inside arguments and results travel raw.
 *
 * submitter -> worker, tag ORDER_TAG, in order per worker:
 * - [OPEN, executor, moduleUrl]: executor `executor` runs tasks of this module;
 * - [TASKS, executor, batch, units]: run these units in order; a unit is
 *   [exportName, calls], one call per argument list (a map chunk has many);
 * - [CLOSE, executor]: the executor is done, forget its module;
 * - [STOP]: stop serving (CommExecutor's shutdown).
 * worker -> submitter, tag resultTag(executor):
 * - [batch, firstUnit, outcomes, micros]: outcomes of units firstUnit.. of
 *   the batch, in order, and the time the worker spent running them; a
 *   batch's outcomes come in one message or, when its units take long, in
 *   several, so that a worker's death loses only the unit it was running.
 */

export const ORDER_TAG = 1;

/** Each executor's results come under a tag of its own: two executors on one intercommunicator never take each other's. */
export function resultTag(executor: number): number {
  return 16 + executor;
}

export const OrderKind = {
  OPEN: 0,
  TASKS: 1,
  CLOSE: 2,
  STOP: 3,
} as const;

/** A unit of work: an export's name and the argument lists it is called with (one for submit, a chunk's for map). */
export type Unit = [name: string, calls: unknown[][]];

export type Order =
  | [typeof OrderKind.OPEN, number, string]
  | [typeof OrderKind.TASKS, number, number, Unit[]]
  | [typeof OrderKind.CLOSE, number]
  | [typeof OrderKind.STOP];

/** An error as it crosses: a thrown value's words. */
export interface RemoteError {
  name: string;
  message: string;
  stack: string;
  code?: string;
}

/** A unit's outcome: every call's result, or the results before the call that threw and its error. */
export type Outcome = [ok: 0, results: unknown[]] | [failed: 1, results: unknown[], error: RemoteError];

export type ResultMessage = [batch: number, firstUnit: number, outcomes: Outcome[], micros: number];

/** The words of anything a task threw. */
export function remoteErrorOf(thrown: unknown): RemoteError {
  if (thrown instanceof Error) {
    const code = (thrown as { code?: unknown }).code;
    return {
      name: thrown.name, message: thrown.message, stack: thrown.stack ?? `${thrown.name}: ${thrown.message}`,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  const text = typeof thrown === 'string' ? thrown : (() => {
    try {
      return JSON.stringify(thrown) ?? String(thrown);
    } catch {
      return String(thrown);
    }
  })();
  return { name: 'Error', message: `the task threw a non-Error value: ${text}`, stack: `Error: the task threw a non-Error value: ${text}` };
}
