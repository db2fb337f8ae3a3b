#!/bin/sh
# log/run: keep @NAME@'s log in @QMAILHOME@/log/@NAME@ (multilog, tai64n
# stamps, rotated at 1 MB, 10 files), as qmaill when run by root.
dir=@QMAILHOME@/log/@NAME@
if command -v multilog >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && id qmaill >/dev/null 2>&1; then
    exec setuidgid qmaill multilog t s1000000 n10 "$dir"
  fi
  exec multilog t s1000000 n10 "$dir"
fi
exec cat >> "$dir/current"
