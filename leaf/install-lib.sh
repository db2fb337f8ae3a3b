# install-lib.sh: shell functions shared by leaf/install-leaf.sh and
# hub/install-hub.sh (sourced, not run).
#   home_object DIR CC TMP     compile an auto_home.o naming DIR into TMP
#   link_progs DIR BUILD SUBDIR "CC" "LIBS" TMP PROG...
#                              link each program again against TMP/auto_home.o
#                              and install it atomically as DIR/bin/PROG
#   install_scripts DIR SRC SCRIPT...   sed @QMAILHOME@ into DIR/bin/SCRIPT
#   install_man DIR SRCSUBDIR           copy X.[158] man pages into DIR/man
#   install_etc DIR SRC FILE...         sed @QMAILHOME@ into DIR/etc/FILE

home_object() {
  local esc
  esc=$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')
  printf 'const char auto_home[] = "%s";\n' "$esc" > "$3/auto_home.c"
  $2 -c -o "$3/auto_home.o" "$3/auto_home.c"
}

link_progs() {
  local dir=$1 build=$2 sub=$3 cc=$4 libs=$5 tmp=$6 p st; shift 6
  for p in "$@"; do
    st=""  # $STATIC_PROGS (from the Makefile) link with $STATIC_LDFLAGS
    case " ${STATIC_PROGS:-} " in *" $p "*) st=${STATIC_LDFLAGS:-} ;; esac
    tl=""  # $TLS_PROGS (from the Makefile) link with $TLS_LIBS too
    case " ${TLS_PROGS:-} " in *" $p "*) tl=${TLS_LIBS:-} ;; esac
    # shellcheck disable=SC2086
    $cc $st -o "$dir/bin/.$p.new" "$build/$sub/$p.o" "$tmp/auto_home.o" \
        "$build/libhub.a" "$build/libleaf.a" "$build/libcommon.a" $libs $tl || return 1
    chmod 755 "$dir/bin/.$p.new"
    mv -f "$dir/bin/.$p.new" "$dir/bin/$p"
  done
}

install_scripts() {
  local dir=$1 src=$2 s; shift 2
  for s in "$@"; do
    sed "s|@QMAILHOME@|$dir|g" "$src/$s.sh" > "$dir/bin/.$s.new"
    chmod 755 "$dir/bin/.$s.new"
    mv -f "$dir/bin/.$s.new" "$dir/bin/$s"
  done
}

install_etc() {
  local dir=$1 src=$2 f; shift 2
  for f in "$@"; do
    sed "s|@QMAILHOME@|$dir|g" "$src/$f" > "$dir/etc/.$f.new"
    chmod 644 "$dir/etc/.$f.new"
    mv -f "$dir/etc/.$f.new" "$dir/etc/$f"
  done
}

install_man() {
  local m sec
  for m in "$2"/*.[158]; do
    [ -f "$m" ] || continue
    sec=${m##*.}
    mkdir -p "$1/man/man$sec"
    cp "$m" "$1/man/man$sec/"
  done
}

# site_names: sets me and dom for this install. dom is $DOMAIN (make
# install DOMAIN=example.org), else /etc/mailname, else the domain of
# `hostname -f`; me is this host's full name when it lies in dom, else dom
# itself (a host name without a dot becomes NAME.localdomain: me must be
# fully qualified, or bare addresses would be qualified past it).
site_names() {
  local fq
  fq=$(hostname -f 2>/dev/null || hostname)
  case $fq in *.*) ;; *) fq=$fq.localdomain ;; esac
  dom=${DOMAIN:-}
  [ -n "$dom" ] || dom=$(head -n 1 /etc/mailname 2>/dev/null | tr -d ' \t')
  [ -n "$dom" ] || dom=${fq#*.}
  case $dom in
    *[!A-Za-z0-9.-]*|.*|*.|*..*) echo "install: bad DOMAIN '$dom'" >&2; return 100 ;;
  esac
  case $fq in "$dom"|*."$dom") me=$fq ;; *) me=$dom ;; esac
}

# put_control DIR NAME LINE...: write control/NAME unless it exists; when
# it exists with other contents and DOMAIN was given, say it was kept
put_control() {
  local f=$1/control/$2; shift 2
  if [ -e "$f" ]; then
    if [ -n "${DOMAIN:-}" ] && [ "$(cat "$f")" != "$(printf '%s\n' "$@")" ]; then
      echo "install: $f exists, kept as it is (not $*)" >&2
    fi
    return 0
  fi
  printf '%s\n' "$@" > "$f"
}

# default_controls DIR [hub]: this site's names, never overwriting what
# exists. On a hub also locals and rcpthosts, so that the site's own mail
# is local from the start (a hub whose me is not in locals sends its own
# domain's mail away).
default_controls() {
  local me dom
  site_names || return
  put_control "$1" me "$me"
  put_control "$1" defaultdomain "$dom"
  put_control "$1" plusdomain "$dom"
  put_control "$1" idhost "$me"
  if [ "${2:-}" = hub ]; then
    if [ "$me" = "$dom" ]; then set -- "$1" "$dom" localhost
    else set -- "$1" "$dom" "$me" localhost; fi
    local d=$1; shift
    put_control "$d" locals "$@"
    put_control "$d" rcpthosts "$@"
  fi
  return 0
}
