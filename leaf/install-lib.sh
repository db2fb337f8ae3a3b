# install-lib.sh: shell functions shared by leaf/install-leaf.sh and
# hub/install-hub.sh (sourced, not run).
#   home_object DIR CC TMP     compile an auto_home.o naming DIR into TMP
#   link_progs DIR BUILD SUBDIR "CC" "LIBS" TMP PROG...
#                              link each program again against TMP/auto_home.o
#                              and install it atomically as DIR/bin/PROG
#   install_scripts DIR SRC SCRIPT...   sed @QMAILHOME@ into DIR/bin/SCRIPT
#   install_man DIR SRCSUBDIR           copy X.[158] man pages into DIR/man

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
    # shellcheck disable=SC2086
    $cc $st -o "$dir/bin/.$p.new" "$build/$sub/$p.o" "$tmp/auto_home.o" \
        "$build/libhub.a" "$build/libleaf.a" "$build/libcommon.a" $libs || return 1
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

install_man() {
  local m sec
  for m in "$2"/*.[158]; do
    [ -f "$m" ] || continue
    sec=${m##*.}
    mkdir -p "$1/man/man$sec"
    cp "$m" "$1/man/man$sec/"
  done
}

# default_controls DIR: this host's names, never overwriting what exists
# (a host name without a dot becomes NAME.localdomain: me must be fully
# qualified, or bare addresses would be qualified past it)
default_controls() {
  local me dom
  me=$(hostname -f 2>/dev/null || hostname)
  case $me in *.*) ;; *) me=$me.localdomain ;; esac  # me must be fully qualified
  dom=${me#*.}
  [ -e "$1/control/me" ] || printf '%s\n' "$me" > "$1/control/me"
  [ -e "$1/control/defaultdomain" ] || printf '%s\n' "$dom" > "$1/control/defaultdomain"
  [ -e "$1/control/plusdomain" ] || printf '%s\n' "$dom" > "$1/control/plusdomain"
  [ -e "$1/control/idhost" ] || printf '%s\n' "$me" > "$1/control/idhost"
  return 0
}
