/**
 * The job's control server (DESIGN.md "Start-up"): the launcher's side of the
 * control connections, a ControlRegistry (wire/control-registry.ts) under the
 * "ctl" proof label, listening on the first free port of --port-range.
 */
import { ControlRegistry, type ControlRegistryEvents, type ParentInfo, type SpawnReply } from '../wire/index.js';

export type ControlEvents = ControlRegistryEvents;

export class ControlServer {
  private readonly registry: ControlRegistry;
  port = 0;

  constructor(size: number, key: Buffer, events: ControlEvents) {
    this.registry = new ControlRegistry(size, key, 'ctl', events);
  }

  /** Listens on `host`, at any port or at the first free one of `range`. */
  async listen(host: string, range: [number, number] | null = null): Promise<number> {
    if (range === null) return (this.port = await this.registry.listen(host, 0));
    for (let port = range[0]; port <= range[1]; port++) {
      try {
        return (this.port = await this.registry.listen(host, port));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
    throw new Error(`no free port for the control server on ${host} in --port-range ${range[0]}-${range[1]}`);
  }

  /** Asks `ranks` for their hang reports under `id` (answers: ControlEvents.onReport); returns those asked. */
  requestReports(id: number, ranks: number[]): number[] {
    return this.registry.requestReports(id, ranks);
  }

  /** Whether `rank` has said hello. */
  hasJoined(rank: number): boolean {
    return this.registry.hasJoined(rank);
  }

  /** Whether `rank` ever said finalize. */
  hasFinalized(rank: number): boolean {
    return this.registry.hasFinalized(rank);
  }

  /** A rank's process ended with code 0: it needs no more, and counts as finalised. */
  rankExitedCleanly(rank: number): void {
    this.registry.rankExitedCleanly(rank);
  }

  /** Room for a spawn's `count` processes; their universe indices start at the returned base. */
  addBlock(count: number, parent: ParentInfo): number {
    return this.registry.addBlock(count, parent);
  }

  /** Welcomes the processes of the spawned block at `base` (its parents know them now). */
  welcomeBlock(base: number): void {
    this.registry.welcomeBlock(base);
  }

  /** Answers `rank`'s spawn request. */
  replySpawn(rank: number, reply: SpawnReply): void {
    this.registry.replySpawn(rank, reply);
  }

  /** A pool worker died: it counts as done, and the other ranks (or only `audience`) hear of it. */
  rankDied(rank: number, words: string, audience?: readonly number[]): void {
    this.registry.rankDied(rank, words, audience);
  }

  close(): void {
    this.registry.close();
  }
}
