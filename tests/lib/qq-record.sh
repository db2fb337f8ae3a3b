#!/bin/sh
# qq-record.sh: a QMAILQUEUE stand-in for tests. Records the message (fd 0)
# and the envelope (fd 1) into $QQ_OUT/message and $QQ_OUT/envelope, then
# answers as told: exit $QQ_EXIT (default 0), writing $QQ_TEXT to fd 6 when
# set (for the exit-82 custom-text protocol).
cat > "$QQ_OUT/message" || exit 54
cat 0<&1 > "$QQ_OUT/envelope" || exit 54
if [ -n "${QQ_TEXT:-}" ]; then printf '%s' "$QQ_TEXT" >&6; fi
exit "${QQ_EXIT:-0}"
