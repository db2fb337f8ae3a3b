# postfix-tools.sh: Postfix's test clients and sink for the tests (source it
# after tests/lib/common.sh).
#
# smtp-sink, smtp-source and qmqp-source come from the Debian package
# postfix, which `make deps` installs without a configuration (no main.cf,
# no daemon, nothing on port 25: tests/lib/deps.sh); they need no
# /etc/postfix/main.cf. Nothing is downloaded at test time.
#
# postfix_tool NAME: print the path of NAME (on PATH, else in /usr/sbin,
#   which a normal user's PATH lacks); 1 with the reason on stderr if it is
#   not installed.
# postfix_tools: set and export SMTP_SOURCE and QMQP_SOURCE (paths) with
#   postfix_tool; 1 with the reason on stderr if either is missing.
# postfix_sink OPTION...: start smtp-sink OPTION... (with -u root as root)
#   on a fresh loopback address (loopback_ip, common.sh) and a port the
#   kernel chose there; up once it greets; another address if it does not
#   come up (5 tries). Sets SINK (its pid,
#   in _pids: common.sh's cleanup kills it), SINK_IP and SINK_PORT; 1 if it
#   never came up (its errors as comments).
# A missing tool: dep_missing (common.sh), a failure as root, else a skip.

postfix_tool() {
  local p
  p=$(command -v "$1" 2> /dev/null) || p=/usr/sbin/$1
  [ -x "$p" ] || { echo "$1 is not installed (Debian package postfix)" >&2; return 1; }
  printf '%s\n' "$p"
}

postfix_tools() {
  SMTP_SOURCE=$(postfix_tool smtp-source) && QMQP_SOURCE=$(postfix_tool qmqp-source) || return 1
  export SMTP_SOURCE QMQP_SOURCE
}


postfix_sink() {
  local bin i j u=()
  bin=$(postfix_tool smtp-sink) || return 1
  # as root it must drop to a user (-u); as a user it cannot (initgroups)
  [ "$(id -u)" = 0 ] && u=(-u root)
  for i in 1 2 3 4 5; do
    SINK_IP=$(loopback_ip)
    SINK_PORT=$(python3 -c 'import socket, sys; s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$SINK_IP") ||
      continue
    # SINK must be smtp-sink's own pid (a background if/fi would be a
    # subshell's, and killing that leaves smtp-sink running)
    "$bin" "${u[@]}" "$@" "$SINK_IP:$SINK_PORT" 10 > "$T/sink.$i.log" 2>&1 &
    SINK=$!; _pids+=("$SINK")
    # up when it greets (it listens before it drops privileges, and may die then)
    for j in $(seq 50); do
      kill -0 "$SINK" 2> /dev/null || break
      (exec 3<> "/dev/tcp/$SINK_IP/$SINK_PORT" && read -r -t 5 l <&3 && [ "${l:0:4}" = "220 " ]) 2> /dev/null &&
        return 0
      sleep 0.1
    done
    kill "$SINK" 2> /dev/null; wait "$SINK" 2> /dev/null
    sed 's/^/# smtp-sink: /' "$T/sink.$i.log"
  done
  return 1
}
