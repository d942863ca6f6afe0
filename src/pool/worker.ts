/**
 * A pool worker's loop (protocol.ts): it takes orders from the submitter,
 * one at a time, runs each batch's units in order, one call at a time (as
 * mpi4py's workers do: a worker is one process, one task at a time), and
 * sends the outcomes back. Orders that come while it runs wait in the
 * matching engine's unexpected queue, bounded by the eager credit, so a
 * worker never idles between two batches it was given.
 *
 * Tasks are the exports of a module named by URL, imported once per
 * executor (an OPEN), and looked up by name for every unit: functions cannot
 * cross processes, their names can.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { Intercomm } from '../comm/index.js';
import { OrderKind, remoteErrorOf, resultTag, ORDER_TAG, type Order, type Outcome, type ResultMessage, type Unit } from './protocol.js';

/**
 * A batch whose units take long sends what it has done after this much
 * time, so that a worker's death loses only the unit it was running (the
 * submitter puts the units it never began back in the queue); short units
 * go back together, one message for the batch.
 */
const FLUSH_AFTER_MS = 1;

type TaskModule = Record<string, unknown>;

/** A module's namespace, or why it could not be had (every task of it fails with these words). */
type Loaded = { ok: true; module: TaskModule; url: string } | { ok: false; error: unknown };

/**
 * Serves orders from the submitter (remote rank 0 of `inter`) until it says
 * STOP or can no longer say anything (its program finalized, or it is gone:
 * the receive fails). Resolves then; never rejects.
 */
export async function serve(inter: Intercomm): Promise<void> {
  const modules = new Map<number, Promise<Loaded>>();
  for (;;) {
    let order: Order;
    try {
      order = await inter.recv<Order>(0, ORDER_TAG);
    } catch {
      return;
    }
    switch (order[0]) {
      case OrderKind.OPEN:
        modules.set(order[1], load(order[2]));
        break;
      case OrderKind.CLOSE:
        modules.delete(order[1]);
        break;
      case OrderKind.STOP:
        return;
      case OrderKind.TASKS: {
        const [, executor, batch, units] = order;
        const loaded = (await modules.get(executor)) ?? { ok: false, error: new Error(`no module was opened for executor ${executor}`) };
        if (!(await runBatch(inter, executor, batch, units, loaded))) return;
        break;
      }
      default: {
        const unknown: never = order;
        throw new Error(`unknown pool order ${JSON.stringify(unknown)}`);
      }
    }
  }
}

async function load(url: string): Promise<Loaded> {
  // The program's own file is still being evaluated (its import of mpi4ts, where this worker serves, has not returned):
  // importing it would wait for ever.
  const script = process.argv[1];
  if (script !== undefined && pathToFileURL(resolve(script)).href === url) {
    return { ok: false, error: new Error(`the task module ${url} is the program itself; under mpi4ts run --pool the tasks live in a module of their own`) };
  }
  try {
    return { ok: true, module: (await import(url)) as TaskModule, url };
  } catch (err) {
    // A spawned worker runs as a .js program, without the TypeScript support the launcher gives a .ts one:
    // where this Node cannot strip types, tsx (mpi4ts's dependency) loads the task module.
    if ((err as NodeJS.ErrnoException).code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?ts$/.test(new URL(url).pathname)) {
      try {
        const { register } = await import('tsx/esm/api');
        register();
        // The failed import stays in the module map under its URL: a query makes it another module.
        const again = new URL(url);
        again.searchParams.set('mpi4ts-tsx', '1');
        return { ok: true, module: (await import(again.href)) as TaskModule, url };
      } catch (again) {
        return { ok: false, error: again };
      }
    }
    return { ok: false, error: err };
  }
}

/** Runs a batch's units and sends their outcomes; false if the submitter can no longer hear them. */
async function runBatch(inter: Intercomm, executor: number, batch: number, units: Unit[], loaded: Loaded): Promise<boolean> {
  const tag = resultTag(executor);
  let outcomes: Outcome[] = [];
  let firstUnit = 0;
  let flushedAt = performance.now();
  let micros = 0;
  for (let i = 0; i < units.length; i++) {
    const started = performance.now();
    outcomes.push(await runUnit(units[i]!, loaded));
    const now = performance.now();
    micros += (now - started) * 1000;
    if (now - flushedAt >= FLUSH_AFTER_MS && i + 1 < units.length) {
      if (!(await sendOutcomes(inter, tag, [batch, firstUnit, outcomes, micros]))) return false;
      firstUnit = i + 1;
      outcomes = [];
      micros = 0;
      flushedAt = performance.now();
    }
  }
  return sendOutcomes(inter, tag, [batch, firstUnit, outcomes, micros]);
}

async function sendOutcomes(inter: Intercomm, tag: number, message: ResultMessage): Promise<boolean> {
  try {
    await inter.send(message, 0, tag);
    return true;
  } catch (err) {
    // A result that cannot be sent (a value the codec refuses): its unit fails with the words, the pool goes on.
    if (!(err instanceof Error) || (err as { code?: string }).code === 'MPI4TS_ERR_JOB') return false;
    const failed: Outcome[] = message[2].map(() => [1, [], remoteErrorOf(new Error(`the task's result cannot be sent back: ${err.message}`))]);
    try {
      await inter.send([message[0], message[1], failed, message[3]] satisfies ResultMessage, 0, tag);
      return true;
    } catch {
      return false;
    }
  }
}

/** Every call of a unit, in order, until one throws. */
async function runUnit(unit: Unit, loaded: Loaded): Promise<Outcome> {
  const [name, calls] = unit;
  const results: unknown[] = [];
  if (!loaded.ok) return [1, results, remoteErrorOf(loaded.error)];
  const task = loaded.module[name];
  if (typeof task !== 'function') {
    const exported = Object.keys(loaded.module).filter((k) => typeof loaded.module[k] === 'function');
    const where = loaded.url.startsWith('file:') ? fileURLToPath(loaded.url) : loaded.url;
    const error = new Error(`the task module ${where} exports no function "${name}" (its functions: ${exported.length === 0 ? 'none' : exported.join(', ')})`);
    return [1, results, remoteErrorOf(error)];
  }
  try {
    for (const args of calls) {
      let result = (task as (...a: unknown[]) => unknown)(...args);
      if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') result = await result;
      results.push(result);
    }
    return [0, results];
  } catch (err) {
    return [1, results, remoteErrorOf(err)];
  }
}
