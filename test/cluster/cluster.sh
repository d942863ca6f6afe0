#!/bin/sh
# A cluster of N hosts on this machine, for the multi-host tests and by hand:
#
#   test/cluster/cluster.sh up N DIR    build hosts m4h1..m4hN (10.77.0.1..N), keys and configs in DIR
#   test/cluster/cluster.sh down [DIR]  remove everything (DIR defaults to the last cluster built)
#   test/cluster/cluster.sh run H CMD.. run CMD on host H, under H's host name
#   test/cluster/cluster.sh fault H KIND [ARG]  break one thing on host H (see faults below)
#   test/cluster/cluster.sh heal H KIND         undo that fault
#   test/cluster/cluster.sh sweep       take down every cluster (any prefix) whose owner is gone
#
# Each host is a network namespace with one veth link to a bridge (m4hbr) that
# lives in its own namespace (m4hsw), so no test traffic touches the machine's
# own network, and an sshd in a UTS namespace with the host's name. Every name
# starts with m4h so other users of this machine's namespaces never collide.
# Root only.
#
# With MPI4TS_TEST_OWNER=PID (the tests pass their own), DIR/owner records that
# process (test/owner.sh). `up` first removes a stale cluster of its prefix, one
# left by a killed run, but refuses (exit 4) while that cluster's owner still
# runs: two test runs on one machine must not take each other's hosts away.
# `sweep` takes down the clusters whose owner is gone (test/sweep.mjs runs it
# after every test run); a cluster built by hand has no owner and is left alone.
# `down` ignores SIGINT, SIGTERM and SIGHUP: a second Ctrl-C must not leave half
# a cluster.
#
# CLUSTER_PREFIX=xyz (letters and digits, default m4h) names everything xyz instead
# (hosts xyz1..xyzN, xyzsw, xyzbr), so two clusters can live side by side; each
# has its own bridge namespace, so both may use the same addresses. `down` only
# touches names of its own prefix. Besides ssh_config, DIR gets `ssh`, an ssh
# that uses it (for launchers that take an ssh program, e.g. Hydra's -launcher-exec),
# and `hosts`, the cluster's names, which each host sees as its /etc/hosts.
set -eu

P=${CLUSTER_PREFIX:-m4h}
case "$P" in
  # A trailing digit would run into the host numbers (x1 + 1 = x11 = x + 11).
  '' | *[!a-z0-9]* | [!a-z]* | *[!a-z]) echo "cluster.sh: CLUSTER_PREFIX=\"$P\" must be lower-case letters and digits, first and last a letter" >&2; exit 2 ;;
esac
NET=10.77.0
LAST=/tmp/$P-cluster.last
. "$(dirname "$0")/../owner.sh"

need() {
  if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then
    echo "cluster.sh: installing $2" >&2
    apt-get update >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 "$2" >/dev/null ||
      { echo "cluster.sh: cannot install $2 (apt-get install failed)" >&2; exit 1; }
  fi
}

down() {
  trap '' INT TERM HUP
  last=$(cat "$LAST" 2>/dev/null || true)
  if [ -n "${1:-}" ] && [ -n "$last" ] && [ "$last" != "$1" ] && owner_alive "$last"; then
    # The names of this prefix belong to another cluster, still in use (`up`
    # refused to replace it): only DIR itself goes.
    rm -rf "$1"
    return 0
  fi
  old=${1:-$last}
  if [ -n "$old" ] && [ -d "$old" ]; then
    for pidfile in "$old"/sshd-*.pid; do
      [ -f "$pidfile" ] || continue
      # Another down (the test's own, test/sweep.mjs's) may remove it meanwhile.
      pid=$(cat "$pidfile" 2>/dev/null || true)
      [ -n "$pid" ] || continue
      # Only an sshd started with this cluster's config: the pid may have been reused.
      if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$old/sshd_config"; then kill "$pid" 2>/dev/null || true; fi
    done
  fi
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$P(sw|[0-9]+)\$" || true); do
    # Whatever still runs in a host (a rank, an sshd session) goes with it.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns delete "$ns" 2>/dev/null || true
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^$P[0-9]+[es]\$" || true); do
    ip link delete "$link" 2>/dev/null || true
  done
  for etc in /etc/netns/*; do
    if echo "${etc##*/}" | grep -Eq "^$P[0-9]+\$"; then rm -rf "$etc"; fi
  done
  if [ -n "$old" ] && [ -d "$old" ]; then rm -rf "$old"; fi
  rm -f "$LAST"
}

up() {
  n=$1
  dir=$2
  need ip iproute2
  need /usr/sbin/sshd openssh-server
  need ssh openssh-client
  need ssh-keygen openssh-client
  need nsenter util-linux
  last=$(cat "$LAST" 2>/dev/null || true)
  if [ -n "$last" ] && owner_alive "$last"; then
    echo "cluster.sh: a cluster of prefix $P ($last) is up and in use by $(owner_describe "$last"); wait for it, take it down (CLUSTER_PREFIX=$P $0 down), or choose another CLUSTER_PREFIX" >&2
    exit 4
  fi
  down ""
  trap - INT TERM HUP
  mkdir -p "$dir" /run/sshd
  owner_record "$dir"
  echo "$dir" >"$LAST"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key"
  cp "$dir/client_key.pub" "$dir/authorized_keys"
  ip netns add "${P}sw"
  ip -n "${P}sw" link add "${P}br" type bridge
  ip -n "${P}sw" link set "${P}br" up
  {
    echo "Host *"
    echo "  User root"
    echo "  IdentityFile $dir/client_key"
    echo "  IdentitiesOnly yes"
    echo "  StrictHostKeyChecking no"
    echo "  UserKnownHostsFile /dev/null"
    echo "  GlobalKnownHostsFile /dev/null"
    echo "  LogLevel ERROR"
    # What `mpi4ts doctor` may be pointed at (fake firmware) reaches every host.
    echo "  SendEnv MPI4TS_DOCTOR_*"
  } >"$dir/ssh_config"
  printf '#!/bin/sh\nexec ssh -F %s "$@"\n' "$dir/ssh_config" >"$dir/ssh"
  chmod +x "$dir/ssh"
  # Host names resolve inside the cluster, as on a real one (Hydra's proxies
  # dial mpiexec's host by name): `ip netns exec` mounts /etc/netns/H/hosts on /etc/hosts.
  {
    echo "127.0.0.1 localhost"
    echo "::1 localhost"
    i=1
    while [ "$i" -le "$n" ]; do echo "$NET.$i $P$i"; i=$((i + 1)); done
  } >"$dir/hosts"
  i=1
  while [ "$i" -le "$n" ]; do
    host "$i" "$dir"
    i=$((i + 1))
  done
}

host() {
  i=$1
  dir=$2
  name=$P$i
  ip netns add "$name"
  mkdir -p "/etc/netns/$name"
  cp "$dir/hosts" "/etc/netns/$name/hosts"
  ip link add "${name}e" type veth peer name "${name}s"
  ip link set "${name}e" netns "$name"
  ip link set "${name}s" netns "${P}sw"
  ip -n "$name" link set "${name}e" name eth0
  ip -n "$name" addr add "$NET.$i/24" dev eth0
  ip -n "$name" addr add "fd77::$i/64" dev eth0 nodad
  ip -n "$name" link set eth0 up
  ip -n "$name" link set lo up
  ip -n "${P}sw" link set "${name}s" master "${P}br"
  ip -n "${P}sw" link set "${name}s" up
  cat >"$dir/sshd_config-$i" <<CFG
ListenAddress $NET.$i
ListenAddress fd77::$i
HostKey $dir/host_key
PidFile $dir/sshd-$i.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
ClientAliveInterval 2
ClientAliveCountMax 3
LogLevel ERROR
AcceptEnv MPI4TS_DOCTOR_*
CFG
  printf 'Host %s\n  HostName %s\n' "$name" "$NET.$i" >>"$dir/ssh_config"
  sshd_start "$i" "$dir"
}

# (sh has no local variables: these use no name that up() or host() keeps.)
# sshd forks into the background; it and every session keep the host's name
# (its own UTS namespace) and its own mount namespace (made by `ip netns exec`),
# so the faults below can change the name or one path for that host alone.
sshd_start() {
  i=$1
  dir=$2
  shift 2
  rm -f "$dir/sshd-$i.pid"
  ip netns exec "$P$i" unshare --uts sh -c 'hostname "$0" && exec /usr/sbin/sshd "$@"' "$P$i" -f "$dir/sshd_config-$i" -E "$dir/sshd-$i.log" "$@"
  # Back only once it listens (the pid file is written after the bind).
  tries=0
  until [ -s "$dir/sshd-$i.pid" ] && ip netns exec "$P$i" ss -ltnH 'sport = :22' | grep -q LISTEN; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ]; then echo "cluster.sh: sshd on $P$i does not listen" >&2; exit 1; fi
    sleep 0.05
  done
}

sshd_stop() {
  i=$1
  dir=$2
  pid=$(cat "$dir/sshd-$i.pid" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$dir/sshd_config"; then
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  fi
  rm -f "$dir/sshd-$i.pid"
}

# Faults, one per KIND, each undone by `heal H KIND` (on the last cluster built):
#   name NAME      the host's name becomes NAME (e.g. m4h_3 or "(none)") for new ssh sessions
#   unresolvable [NAME]  NAME (default: the host's own name) is missing from the host's /etc/hosts
#                  (other names still resolve; the cluster has no DNS)
#   sshd-down      the host's sshd is stopped (nothing listens on port 22)
#   key-refused    the host's sshd is restarted with another (empty) AuthorizedKeysFile
#   key-mode       (H is `client`) the client's private key is made readable by others (chmod 644)
#   ports LO-HI    the host drops new TCP connections to its ports LO-HI, as a host firewall
#                  does (an nft table in its namespace; its own connections out still work)
#   path DIR       DIR is empty on that host (an empty directory bind-mounted over it, in its sshd's mounts)
#   node VERSION   the node binary (`command -v node`) reports VERSION on that host
#                  (a wrapper bind-mounted over it that runs the real one with a preload)
#   file PATH TEXT the file PATH holds TEXT on that host (bind-mounted over it)
#   home-mode      the user's home on that host is world-writable (0757; a copy holding
#                  .ssh/authorized_keys, bind-mounted over it), and its sshd is restarted with
#                  StrictModes=yes and AuthorizedKeysFile=.ssh/authorized_keys, as a stock sshd
#                  has them: it refuses the key ("bad ownership or modes for directory").
#                  Not 0775: Debian's sshd lets a group-writable home pass when the group has
#                  no other members (root's has none)
# `heal H path`, `heal H file` undo every such mount of that host.
fault() {
  name=$1
  kind=$2
  shift 2
  dir=$(cat "$LAST" 2>/dev/null || true)
  [ -n "$dir" ] && [ -d "$dir" ] || { echo "cluster.sh: no cluster of prefix $P is up" >&2; exit 1; }
  if [ "$kind" = key-mode ]; then chmod 644 "$dir/client_key"; return; fi
  i=${name#"$P"}
  case "$i" in '' | *[!0-9]*) echo "cluster.sh: $name is not a host of this cluster" >&2; exit 2 ;; esac
  [ -f "$dir/sshd_config-$i" ] || { echo "cluster.sh: $name is not a host of this cluster" >&2; exit 2; }
  pid=$(cat "$dir/sshd-$i.pid" 2>/dev/null || true)
  case "$kind" in
    # Through the kernel: hostname(1) refuses an invalid name such as m4h_3.
    name) nsenter -t "$pid" --uts sh -c 'printf %s "$0" >/proc/sys/kernel/hostname' "$1" ;;
    unresolvable)
      # In place: the host's /etc/hosts is a bind mount of this very file.
      grep -v " ${1:-$name}\$" "$dir/hosts" | cat >"/etc/netns/$name/hosts" ;;
    sshd-down) sshd_stop "$i" "$dir" ;;
    key-refused)
      : >"$dir/authorized_keys-none"
      sshd_stop "$i" "$dir"
      sshd_start "$i" "$dir" -o "AuthorizedKeysFile=$dir/authorized_keys-none" ;;
    ports)
      ip netns exec "$name" nft -f - <<NFT
table inet ${P}fault {
  chain input { type filter hook input priority 0; policy accept; ct state new tcp dport $1 drop; }
}
NFT
      ;;
    path)
      mkdir -p "$dir/fault-empty"
      nsenter -t "$pid" -m mount --bind "$dir/fault-empty" "$1"
      echo "$1" >>"$dir/fault-mounts-$i" ;;
    node)
      node=$(command -v node)
      fake=$dir/fault-node-$i
      mkdir -p "$fake"
      : >"$fake/node.real"
      cat >"$fake/preload.mjs" <<JS
Object.defineProperty(process, 'version', { value: '$1' });
Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '${1#v}' } });
JS
      cat >"$fake/node" <<SH
#!/bin/sh
case "\$1" in --version | -v) echo $1; exit 0 ;; esac
exec $fake/node.real --import $fake/preload.mjs "\$@"
SH
      chmod +x "$fake/node"
      nsenter -t "$pid" -m sh -c 'mount --bind "$0" "$1" && mount --bind "$2" "$0"' "$node" "$fake/node.real" "$fake/node"
      printf '%s\n%s\n' "$node" "$fake/node.real" >>"$dir/fault-mounts-$i" ;;
    file)
      mkdir -p "$dir/fault-files-$i"
      copy=$dir/fault-files-$i/$(echo "$1" | tr / _)
      printf '%s\n' "$2" >"$copy"
      nsenter -t "$pid" -m mount --bind "$copy" "$1"
      echo "$1" >>"$dir/fault-mounts-$i" ;;
    home-mode)
      home=$(getent passwd root | cut -d: -f6)
      fake=$dir/fault-home-$i
      mkdir -p "$fake/.ssh"
      cp "$dir/authorized_keys" "$fake/.ssh/authorized_keys"
      chmod 600 "$fake/.ssh/authorized_keys"
      chmod 700 "$fake/.ssh"
      chmod 757 "$fake"
      sshd_stop "$i" "$dir"
      sshd_start "$i" "$dir" -o StrictModes=yes -o AuthorizedKeysFile=.ssh/authorized_keys
      # In the new sshd's mounts: `ip netns exec` gave it a mount namespace of its own.
      nsenter -t "$(cat "$dir/sshd-$i.pid")" -m mount --bind "$fake" "$home" ;;
    *) echo "cluster.sh: unknown fault \"$kind\" (name, unresolvable, sshd-down, key-refused, key-mode, ports, path, node, file, home-mode)" >&2; exit 2 ;;
  esac
}

heal() {
  name=$1
  kind=$2
  dir=$(cat "$LAST" 2>/dev/null || true)
  [ -n "$dir" ] && [ -d "$dir" ] || { echo "cluster.sh: no cluster of prefix $P is up" >&2; exit 1; }
  if [ "$kind" = key-mode ]; then chmod 600 "$dir/client_key"; return; fi
  i=${name#"$P"}
  [ -f "$dir/sshd_config-$i" ] || { echo "cluster.sh: $name is not a host of this cluster" >&2; exit 2; }
  pid=$(cat "$dir/sshd-$i.pid" 2>/dev/null || true)
  case "$kind" in
    name) nsenter -t "$pid" --uts sh -c 'printf %s "$0" >/proc/sys/kernel/hostname' "$name" ;;
    unresolvable) cat "$dir/hosts" >"/etc/netns/$name/hosts" ;;
    # A fresh sshd has the cluster's config and a fresh mount namespace (without home-mode's mount).
    sshd-down | key-refused | home-mode) sshd_stop "$i" "$dir"; sshd_start "$i" "$dir"; rm -rf "$dir/fault-home-$i" ;;
    ports) ip netns exec "$name" nft delete table inet "${P}fault" 2>/dev/null || true ;;
    path | node | file)
      # Last mounted first (the node fault mounts twice).
      if [ -f "$dir/fault-mounts-$i" ]; then
        tac "$dir/fault-mounts-$i" | while read -r target; do nsenter -t "$pid" -m umount "$target" || true; done
        rm -f "$dir/fault-mounts-$i"
      fi ;;
    *) echo "cluster.sh: unknown fault \"$kind\"" >&2; exit 2 ;;
  esac
}

# Every cluster of any prefix whose state names an owner that is gone, one line
# each on stdout. Only clusters with an owner file: never one built by hand.
sweep() {
  for last in /tmp/*-cluster.last; do
    [ -f "$last" ] || continue
    prefix=${last#/tmp/}
    prefix=${prefix%-cluster.last}
    case "$prefix" in '' | *[!a-z0-9]* | [!a-z]* | *[!a-z]) continue ;; esac
    dir=$(cat "$last" 2>/dev/null || true)
    [ -n "$dir" ] && owner_gone "$dir" || continue
    echo "cluster $prefix ($dir, owner $(cut -d' ' -f1 "$dir/owner") gone)"
    CLUSTER_PREFIX=$prefix sh "$0" down "$dir"
  done
}

run() {
  name=$1
  shift
  exec ip netns exec "$name" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$name" "$@"
}

case "${1:-}" in
  up) up "$2" "$3" ;;
  down) down "${2:-}" ;;
  run) shift; run "$@" ;;
  fault) need nft nftables; shift; fault "$@" ;;
  heal) shift; heal "$@" ;;
  sweep) sweep ;;
  *) echo "usage: $0 up N DIR | down [DIR] | run HOST CMD... | fault HOST KIND [ARG...] | heal HOST KIND | sweep" >&2; exit 2 ;;
esac
