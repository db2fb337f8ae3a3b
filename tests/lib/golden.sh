# golden.sh: the compare step of the golden transcript tests
# (tests/proto/*.t); source it. UPDATE=1 in the environment rewrites an
# .exp file that differs from the transcript, and that case then reports
# "not ok N - NAME # updated": a run that rewrote anything is never green,
# so review the diff it printed and run again without UPDATE. Any other
# non-empty UPDATE is refused, and `make test`/`make check` refuse UPDATE
# altogether (the Makefile).
case ${UPDATE:-} in
  "" | 1) ;;
  *) echo "Bail out! UPDATE='$UPDATE': only UPDATE=1 rewrites the .exp files"; exit 1 ;;
esac

# golden N NAME GOT EXP: 0 when the file GOT equals EXP (the caller then
# reports the case); otherwise print "not ok N - NAME ..." with the diff,
# after copying GOT over EXP under UPDATE=1, and return 1.
golden() {
  cmp -s "$3" "$4" && return 0
  if [ "${UPDATE:-}" = 1 ]; then echo "not ok $1 - $2 # updated"
  else echo "not ok $1 - $2 (transcript differs)"; fi
  diff -u "$4" "$3" 2>&1 | sed 's/^/# /' | head -40
  if [ "${UPDATE:-}" = 1 ]; then cp "$3" "$4"; fi
  return 1
}
