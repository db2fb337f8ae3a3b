# ports.sh: loopback ports for the tests without races (source it; bash).
# A port picked by binding port 0 and closing the socket can be taken by
# another process before the server binds it, and a "port nothing listens
# on" picked that way can be taken by a server meanwhile. So:
#   free_port              a loopback port free just now (bind 0, close);
#                          only for a server started by qmailctl_start
#   qmailctl_start HOME LOG   HOME/bin/qmailctl start, output in LOG; a
#                          service whose tcpserver could not bind its port
#                          ("unable to bind" in qmailctl's FAILED line)
#                          gets a new free_port in HOME/service/NAME/env/PORT
#                          and the start is tried again, at most 5 times;
#                          the caller rereads its ports from env/PORT after
#   dead_port VAR          set VAR to a loopback port nothing listens on,
#                          kept that way: a python process holds it bound
#                          on 127.0.0.1 (and on ::1 if it can) and not
#                          listening (a connect gets ECONNREFUSED,
#                          nobody else can bind it) until the script exits
#                          (its pid goes into _pids, which common.sh's
#                          cleanup kills; DEAD_PIDS lists them too)
# Python 3 standard library only; every wait is bounded.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

qmailctl_start() {
  local home=$1 log=$2 try s failed
  for try in 1 2 3 4 5; do
    "$home/bin/qmailctl" start > "$log" 2>&1 && return 0
    failed=$(sed -n 's/^\([a-z0-9-]*\): FAILED to start: .*unable to bind.*/\1/p' "$log")
    [ -n "$failed" ] || return 1
    echo "# qmailctl start, try $try: port taken: $(echo $failed); new ports" >&2
    for s in $failed; do free_port > "$home/service/$s/env/PORT"; done
  done
  return 1
}

DEAD_PIDS=()
dead_port() {
  local out i
  out=$(mktemp) || return 1
  python3 -c '
import socket, sys, time
# the same port on ::1 too where there is IPv6 (for "localhost:PORT")
for _ in range(20):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    try:
        s6 = socket.socket(socket.AF_INET6)
        s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s6.bind(("::1", port))
    except OSError as e:
        if e.errno == 98:      # EADDRINUSE: taken on ::1, another port
            s.close()
            continue
    break
print(port, flush=True)
sys.stdout.close()
time.sleep(float(sys.argv[1]))
' "${DEAD_LIFETIME:-3600}" > "$out" 2>/dev/null &
  DEAD_PIDS+=("$!"); _pids+=("$!")
  for i in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  printf -v "$1" '%s' "$(head -n 1 "$out")"
  rm -f "$out"
  [ -n "${!1}" ]
}
