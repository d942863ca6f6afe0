#!/bin/sh
# Stands in for ssh in tests that cannot run sshd: ssh's options come first,
# the host and the remote command last; run the command here, as sshd would.
# A host named "down*" fails the way an unreachable host does.
while [ $# -gt 2 ]; do shift; done
case "$1" in
  down*) echo "ssh: connect to host $1 port 22: No route to host" >&2; exit 255 ;;
esac
exec sh -c "$2"
