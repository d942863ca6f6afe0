/** `ssh`: `ssh HOST true` in batch mode, and what ssh's own words say is wrong. */
import { fail, ok, type Check } from './check.js';
import type { ExecResult } from './runner.js';

export function sshCheck(host: string, r: ExecResult, timeoutSeconds: number): Check {
  if (r.code === 0) return ok(host, 'ssh', `ssh ${host} true works without a password`);
  const said = r.stderr.trim().split('\n').filter((l) => l.trim() !== '' && !/^@+$/.test(l.trim())).slice(-3).join(' / ');
  const seen = r.timedOut ? `ssh ${host} true did not finish within ${timeoutSeconds} s` : `ssh ${host} true failed (exit ${r.code})${said === '' ? '' : `: ${said}`}`;
  return fail(host, 'ssh', seen, `mpi4ts starts every rank of ${host} with ssh in batch mode, so it must log in without a password; ${cause(host, r)}`);
}

function cause(host: string, r: ExecResult): string {
  const text = r.stderr;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/i.test(text)) {
    return `the host key changed or is not yet known (a reinstalled host, or a new one): if that is expected, run ssh-keygen -R ${host}, then ssh ${host} once to accept the new key`;
  }
  if (/Permission denied/i.test(text)) {
    // sshd says no more than this when StrictModes refuses a key it holds: name that cause too.
    return `no key is accepted: run ssh-copy-id ${host} (after ssh-keygen -t ed25519 if you have no key); ` +
      `if the key is there already, sshd (StrictModes) refuses it when ~, ~/.ssh or ~/.ssh/authorized_keys on ${host} can be written by others: ` +
      'there, chmod go-w ~; chmod 700 ~/.ssh; chmod 600 ~/.ssh/authorized_keys';
  }
  if (/Connection refused/i.test(text)) return `sshd is not running on ${host}: there, sudo systemctl enable --now ssh`;
  if (/Could not resolve hostname/i.test(text)) return `this host cannot resolve "${host}": add its address to /etc/hosts here`;
  if (/No route to host/i.test(text)) return `the network has no route to ${host}: check its cable, its address, and --iface/--net`;
  if (r.timedOut || /timed out/i.test(text)) return `${host} does not answer on port 22: it is down, or a firewall drops ssh (sudo ufw allow ssh on ${host})`;
  return `run ssh -v ${host} true to see why`;
}
