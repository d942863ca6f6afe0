/**
 * What ends a job's processes on this host when the launcher itself dies
 * without a word (SIGKILL, the OOM killer): a small shell process, started
 * in a session of its own, that holds the other end of a pipe from the
 * launcher. The launcher writes it the process group of every local rank
 * and ssh session as they start; when the pipe closes without the launcher
 * having said "done", the launcher is gone, and the watchdog SIGKILLs every
 * group it was told of. A rank that is computing cannot notice its lost
 * control connection until its event loop runs, perhaps minutes later; the
 * kernel's signal needs nothing from it. Killing an ssh session ends the
 * remote side too: the remote wrapper kills its rank when the session goes
 * (remote-rank.ts).
 *
 * A group is forgotten when it is empty (its leader's pid may be reused),
 * and a launcher that ends normally says "done" first, so the watchdog
 * never signals anything once the job is over.
 *
 * # Unfinished features
 * - Without /bin/sh there is no watchdog (the debug log says so), and a
 *   launcher killed then leaves its local ranks to notice on their own.
 * - Only process groups: what a rank moved out of its group (setsid) is not
 *   killed (process-group.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { debug } from '../base/index.js';
import { killGroup } from './process-group.js';

/**
 * POSIX sh: "+G" adds group G, "-G" removes it, "done" ends quietly; end of
 * input (the launcher died) kills every group still listed.
 */
const SCRIPT = `trap '' INT HUP TERM PIPE
groups=' '
while IFS= read -r line; do
  case $line in
    +*) groups="$groups\${line#+} " ;;
    -*) kept=' '; for g in $groups; do [ "$g" = "\${line#-}" ] || kept="$kept$g "; done; groups=$kept ;;
    done) exit 0 ;;
  esac
done
for g in $groups; do kill -9 "-$g" 2>/dev/null; done
exit 0`;

export class Watchdog {
  private readonly watched = new Set<number>();

  private constructor(private readonly child: ChildProcess) {}

  /** Starts the watchdog, or returns null (with the reason in the debug log) where no sh runs. */
  static start(): Watchdog | null {
    try {
      const child = spawn('/bin/sh', ['-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
      child.on('error', (err) => debug('no watchdog for the job: %s', err.message));
      child.stdin!.on('error', () => {});
      // Neither the process nor its pipe may keep the launcher alive.
      child.unref();
      (child.stdin as unknown as { unref?: () => void }).unref?.();
      return new Watchdog(child);
    } catch (err) {
      debug('no watchdog for the job: %s', (err as Error).message);
      return null;
    }
  }

  /** Kills group `pgid` if the launcher dies. */
  watch(pgid: number): void {
    this.watched.add(pgid);
    this.say(`+${pgid}`);
  }

  /** Forgets group `pgid` once nothing is left in it. */
  forgetIfEmpty(pgid: number): void {
    // Signal 0 only asks whether the group is there; an empty group's id may be reused.
    if (!this.watched.has(pgid) || killGroup(pgid, 0)) return;
    this.watched.delete(pgid);
    this.say(`-${pgid}`);
  }

  /** The job is over: the watchdog leaves without signalling anything. */
  stop(): void {
    this.say('done');
    this.child.stdin?.end();
  }

  private say(line: string): void {
    if (this.child.stdin?.writable === true) this.child.stdin.write(`${line}\n`);
  }
}
