# promtool.sh: promtool (Prometheus' checker) for the metrics tests,
# without installing Debian's prometheus package (that would start a
# server on the test machine). Source it after common.sh.
#   promtool_get      sets PROMTOOL to a usable promtool and returns 0, or
#                     returns 1 with the reason in PROMTOOL_WHY (the check
#                     is then skipped with that reason)
# Order: a promtool on PATH; one cached in $SRCDIR/$BUILD/promtool/; else
# `apt-get download prometheus` into that cache and `dpkg-deb -x` of
# usr/bin/promtool (no root needed, only the package lists and a mirror;
# bounded by 300 s). Nothing is installed or left outside the build dir.
promtool_get() {
  local cache=$SRCDIR/$BUILD/promtool deb
  PROMTOOL="" PROMTOOL_WHY=""
  if command -v promtool > /dev/null 2>&1; then PROMTOOL=$(command -v promtool); return 0; fi
  if [ -x "$cache/promtool" ] && "$cache/promtool" --version > /dev/null 2>&1; then
    PROMTOOL=$cache/promtool; return 0
  fi
  if ! command -v apt-get > /dev/null 2>&1 || ! command -v dpkg-deb > /dev/null 2>&1; then
    PROMTOOL_WHY="no apt-get or dpkg-deb to fetch promtool"; return 1
  fi
  rm -rf "$cache"; mkdir -p "$cache/dl" "$cache/x" || { PROMTOOL_WHY="cannot make $cache"; return 1; }
  if ! (cd "$cache/dl" && timeout 300 apt-get download prometheus) > "$cache/download.log" 2>&1; then
    PROMTOOL_WHY="apt-get download prometheus failed ($(tail -n 1 "$cache/download.log"))"; return 1
  fi
  deb=$(ls "$cache"/dl/prometheus_*.deb 2> /dev/null | head -n 1)
  if [ -z "$deb" ] || ! dpkg-deb -x "$deb" "$cache/x" || [ ! -x "$cache/x/usr/bin/promtool" ]; then
    PROMTOOL_WHY="no usr/bin/promtool in the prometheus package"; return 1
  fi
  mv "$cache/x/usr/bin/promtool" "$cache/promtool" && rm -rf "$cache/x" "$cache/dl"
  "$cache/promtool" --version > /dev/null 2>&1 || { PROMTOOL_WHY="the fetched promtool does not run"; return 1; }
  PROMTOOL=$cache/promtool
}
