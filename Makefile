# Makefile: builds the leaf and the hub from one tree, installs homes, runs tests.
#
#   make                      build everything into $(BUILD)/
#   make check [SAN=1]        deps + build + every test through prove
#   make check-slow           the fault scripts built with the sanitizers, the power-loss test
#   make install-leaf QMAILHOME=DIR [SENDMAIL_LINKS=1]
#   make install      QMAILHOME=DIR [DOMAIN=example.org]
#                             (hub home; DOMAIN names the site: me, locals,
#                             rcpthosts, defaultdomain, plusdomain)
#   make fuzz                 libFuzzer harnesses, bounded time each
#   make bench-leaf           leaf benchmark against nullmailer and Postfix
#   make bench-spool          a leaf send with an empty spool, before and after the spool
#   make bench-local          local delivery end to end and drain against Postfix
#   make bench-remote         remote delivery (drain, end to end, 1000 recipients, dial-up flush; TLS drain, QMTPS flush) against Postfix
#   make bench-tls            STARTTLS and SMTPS sessions and messages per second, CPU per handshake, against Postfix
#   make bench-pop3           POP3 RETR+DELE of 10,000 messages and a UIDL poll against Dovecot
#   make bench-goals          issue 14's goals table in one run against Postfix (accept, local, dial-up rows; not part of make bench)
#
# Programs find their home through a compiled-in path: install links each
# program again with an auto_home object naming DIR, so a home works with no
# environment variable and several homes can coexist.

QMAILHOME ?= /var/qmail
SAN ?=
BUILD ?= build$(if $(SAN),-san)
CC ?= cc
CFLAGS_BASE := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Dpure= -D_GNU_SOURCE -Icommon
comma := ,
SANFLAGS := $(if $(SAN),-fsanitize=address$(comma)undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
ALL_CFLAGS := $(CFLAGS_BASE) $(SANFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS := $(SANFLAGS) $(LDFLAGS)
LDLIBS := -l:libowfat.a

# Programs: one C file each, man page beside it. Everything else in leaf/
# and hub/ is a module linked into the programs that need it.
LEAF_PROGS := qmail-inject sendmail qmail-qmqpc forward predate \
              maildirmake maildir2mbox qmail-showctl qmail-qmtpsc
LEAF_SCRIPTS := datemail mailsubj
HUB_PROGS := qmail-queue qmail-queued qmail-smtpd qmail-qmtpd qmail-qmqpd qmail-local \
             preline condredirect bouncesaying except qreceipt qmail-send qmail-start \
             qmail-clean qmail-lspawn qmail-getpw qmail-newu qmail-pw2u qmail-rcptcdb qmail-qread qmail-qstat qmail-rspawn \
             qmail-remote qmail-tcpto qmail-tcpok qmail-svcrun qmail-checkpassword qmail-passwd \
             qmail-pop3d qmail-popup qmail-dkimsign qmail-qconvert qmail-newmrh qmail-newaliases qmail-metrics qmail-top
# A listed program without its source is an error, not a program quietly
# left out of the build, the install and the tests (whose checks of it
# would then be skipped).
missing_src := $(filter-out $(notdir $(wildcard leaf/*.c hub/*/*.c)),$(LEAF_PROGS:%=%.c) $(HUB_PROGS:%=%.c))
ifneq ($(MAKECMDGOALS),clean)
$(if $(missing_src),$(error listed programs without a source file: $(missing_src)))
endif

COMMON_SRC := $(wildcard common/*.c)
LEAF_MOD_SRC := $(filter-out $(LEAF_PROGS:%=leaf/%.c),$(wildcard leaf/*.c))
HUB_MOD_SRC := $(filter-out $(addprefix %/,$(HUB_PROGS:%=%.c)),$(wildcard hub/*/*.c))
UNIT_SRC := $(wildcard tests/unit/*.c)

LIBCOMMON := $(BUILD)/libcommon.a
LIBLEAF := $(BUILD)/libleaf.a
LIBHUB := $(BUILD)/libhub.a
# hub/ holds one folder per subsystem (servers, pop3, queue, send, local,
# remote, admin: docs/architecture.md); the objects and programs are built
# flat into $(BUILD)/hub/, so a program is $(BUILD)/hub/NAME wherever its
# source lives, and every hub folder is on the include path.
HUB_DIRS := $(sort $(dir $(wildcard hub/*/*.c hub/*/*.h)))
HUB_INC := $(addprefix -I,$(HUB_DIRS:%/=%))
vpath %.c $(HUB_DIRS)
LEAF_BIN := $(LEAF_PROGS:%=$(BUILD)/leaf/%)
HUB_BIN := $(HUB_PROGS:%=$(BUILD)/hub/%)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)

.SECONDARY:
.PHONY: all deps deps-run check test install install-leaf fuzz bench bench-leaf bench-accept bench-local bench-scale bench-remote bench-spool bench-tls bench-goals clean run
all: $(LEAF_BIN) $(HUB_BIN) $(UNIT_BIN)
# A build directory from before hub/ had folders holds .d files that name
# hub/X.c and hub/X.h, now in hub/*/: those names are always out of date
# (FORCE), so such an object is rebuilt once, and its new .d file names
# the new places. (An empty rule here instead left the old objects alone:
# then no header change ever reached them.)
$(addprefix hub/,$(notdir $(wildcard hub/*/*.c hub/*/*.h))): FORCE
.PHONY: FORCE
FORCE:

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(BUILD)/hub/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(HUB_INC) -c -o $@ $<

$(LIBCOMMON): $(COMMON_SRC:%.c=$(BUILD)/%.o)
	@rm -f $@; ar rcs $@ $^
$(LIBLEAF): $(LEAF_MOD_SRC:%.c=$(BUILD)/%.o) | $(LIBCOMMON)
	@rm -f $@; ar rcs $@ $^ $(BUILD)/empty.o
$(LIBHUB): $(addprefix $(BUILD)/hub/,$(notdir $(HUB_MOD_SRC:%.c=%.o))) | $(LIBCOMMON)
	@rm -f $@; ar rcs $@ $^ $(BUILD)/empty.o

# auto_home.o for the build tree names the default home; install makes its own.
$(BUILD)/auto_home.c: Makefile
	@mkdir -p $(@D)
	printf 'const char auto_home[] = "%s";\n' '$(QMAILHOME)' > $@
$(BUILD)/auto_home.o: $(BUILD)/auto_home.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(BUILD)/empty.o:
	@mkdir -p $(@D)
	printf 'typedef int empty_unit;\n' | $(CC) -x c -c -o $@ -

LINK = $(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
# Programs started for every message are linked statically
# (docs/architecture.md sec 1: an exec of a static program costs ~0.2 ms
# less CPU); they do no NSS
# lookup on their normal paths (the glibc warning about getaddrinfo, used
# only for host names in qmqpservers, is silenced). Not in the sanitizer
# build, which cannot link statically.
STATIC_PROGS := $(if $(SAN),,qmail-local qmail-smtpd qmail-qmqpd qmail-qmtpd)
STATIC_LDFLAGS := -static -Wl,--no-warnings
$(STATIC_PROGS:%=$(BUILD)/hub/%): ALL_LDFLAGS += $(STATIC_LDFLAGS)
# crypt(3) (hub/servers/pwcheck.c, libcrypt from libxcrypt): only the password
# programs and their unit test (install: CRYPT_PROGS)
CRYPT_PROGS := qmail-checkpassword qmail-passwd
$(CRYPT_PROGS:%=$(BUILD)/hub/%) $(BUILD)/tests/unit/pwcheck: LDLIBS += -lcrypt
# qmail-remote uses glibc's resolver (hub/remote/rdns.c; glibc >= 2.34 has it in libc too)
$(BUILD)/hub/qmail-remote $(BUILD)/tests/unit/dane $(BUILD)/tests/unit/tlsc: LDLIBS += -lresolv
# TLS (common/q_tls.c, libtls from libtls-dev on OpenSSL): only the
# programs that speak it, and their unit test (install: TLS_PROGS)
TLS_PROGS := qmail-smtpd qmail-remote qmail-popup qmail-qmtpd
TLS_LIBS := -ltls -lssl -lcrypto
# the leaf's QMTPS helper, run only for qmtps: lines: the leaf's other
# programs never link libtls (docs/qmtps.md)
TLS_PROGS += qmail-qmtpsc
$(BUILD)/leaf/qmail-qmtpsc: LDLIBS += $(TLS_LIBS)
$(TLS_PROGS:%=$(BUILD)/hub/%) $(BUILD)/tests/unit/tls $(BUILD)/tests/unit/dane $(BUILD)/tests/unit/tlsclients $(BUILD)/tests/unit/tlsc: LDLIBS += $(TLS_LIBS)
# DKIM signing (hub/remote/dkimsign.c, OpenSSL's libcrypto): docs/dkim.md
DKIM_PROGS := qmail-dkimsign
$(DKIM_PROGS:%=$(BUILD)/hub/%) $(BUILD)/tests/unit/dkimsign: LDLIBS += -lcrypto
$(BUILD)/leaf/%: $(BUILD)/leaf/%.o $(BUILD)/auto_home.o $(LIBLEAF) $(LIBCOMMON)
	$(LINK)
$(BUILD)/hub/%: $(BUILD)/hub/%.o $(BUILD)/auto_home.o $(LIBHUB) $(LIBLEAF) $(LIBCOMMON)
	$(LINK)
$(LIBLEAF) $(LIBHUB): $(BUILD)/empty.o
$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/auto_home.o $(LIBHUB) $(LIBLEAF) $(LIBCOMMON)
	$(LINK)
$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/lib -Ileaf $(HUB_INC) -c -o $@ $<

# ---- dependencies (Debian 12) -------------------------------------------
# RUN_PKGS: what building and running a hub needs (make run); DEB_PKGS: that
# plus the test tools (make check). tests/lib/deps.sh installs what is
# missing as root; as a normal user it prints the apt-get line and fails.
RUN_PKGS := libowfat-dev ucspi-tcp-ipv6 daemontools python3 libtls-dev openssl
DEB_PKGS := $(RUN_PKGS) tinycdb swaks libio-socket-ssl-perl faketime clang libclang-rt-14-dev strace dnsmasq-base man-db postfix libsasl2-modules sasl2-bin fetchmail getmail6 python3-dkim python3-nacl
deps:
	@sh tests/lib/deps.sh $(DEB_PKGS)
deps-run:
	@sh tests/lib/deps.sh $(RUN_PKGS)

# ---- tests --------------------------------------------------------------
# UPDATE=1 (tests/lib/golden.sh) rewrites golden files: never under check/test
$(if $(UPDATE),$(if $(filter check test,$(MAKECMDGOALS)),$(error UPDATE is set: make check/test never rewrite golden files; run one alone: UPDATE=1 prove -e '' tests/proto/NAME.t)))
check: deps
	$(MAKE) all
	$(MAKE) test
	$(if $(SAN),,$(MAKE) test SAN=1)
# The fault scripts (kill -9 and I/O errors at every system call) run in
# the plain pass; their sanitizer pass is in check-slow (about four minutes).
# PROVE_JOBS: test files run side by side (each on its own ports and home;
# 2 for the 2-core CI machine: make check stays near 15 minutes)
PROVE_JOBS ?= 2
test: all
	BUILD=$(BUILD) SRCDIR=$(CURDIR) prove --timer -j$(PROVE_JOBS) -e '' $(UNIT_BIN) $(sort $(wildcard tests/proto/*.t tests/sys/*.t $(if $(SAN),,tests/fault/*.t)))
# check-slow also runs the power-loss test (tests/slow/powerloss.t,
# docs/powerloss.md; root only, it skips otherwise), which needs libfuse3
SLOW_PKGS := fuse3 libfuse3-dev
# tests/slow/deb.t: make deb, and a throwaway Debian root to install into
SLOW_PKGS += debhelper lintian mmdebstrap
check-slow: deps
	@sh tests/lib/deps.sh $(SLOW_PKGS)
	$(MAKE) all SAN=1
	BUILD=build-san SRCDIR=$(CURDIR) prove --timer -e '' $(sort $(wildcard tests/fault/*.t)) $(sort $(wildcard tests/slow/*.t))

# ---- install ------------------------------------------------------------
# install-leaf: bin/ (programs relinked for DIR), control/, man/. No root needed.
install-leaf: all
	@DOMAIN='$(DOMAIN)' TLS_PROGS='$(TLS_PROGS)' TLS_LIBS='$(TLS_LIBS)' sh leaf/install-leaf.sh '$(QMAILHOME)' '$(BUILD)' '$(CC) $(ALL_LDFLAGS)' '$(LDLIBS)' \
	  '$(LEAF_PROGS)' '$(LEAF_SCRIPTS)' '$(SENDMAIL_LINKS)'

# ---- fuzzing (clang libFuzzer) -------------------------------------------
# Harnesses tests/fuzz/fuzz_*.c, each linked with an archive of common/ and
# the hub modules built for fuzzing in $(FUZZ_BUILD). `make fuzz` runs each
# for FUZZ_TIME seconds (new inputs kept in $(FUZZ_BUILD)/corpus-NAME);
# tests/sys/fuzz.t (in check) runs each over its seeds in
# tests/fuzz/corpus/NAME plus a bounded number of mutations.
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME ?= 30
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_OBJ := $(COMMON_SRC:%.c=$(FUZZ_BUILD)/obj/%.o) $(HUB_MOD_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BASE := -std=gnu11 -g -O1 -Dpure= -D_GNU_SOURCE -Icommon $(HUB_INC) -MMD -MP
FUZZ_CFLAGS := $(FUZZ_BASE) -fsanitize=fuzzer$(comma)address$(comma)undefined
FUZZ_OBJFLAGS := $(FUZZ_BASE) -fsanitize=fuzzer-no-link$(comma)address$(comma)undefined
.PHONY: fuzz-build
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_OBJFLAGS) -c -o $@ $<
$(FUZZ_BUILD)/obj/auto_home.o:
	@mkdir -p $(@D)
	printf 'const char auto_home[] = "/nonexistent";\n' | clang $(FUZZ_OBJFLAGS) -x c -c -o $@ -
$(FUZZ_BUILD)/libfuzz.a: $(FUZZ_OBJ) $(FUZZ_BUILD)/obj/auto_home.o
	@rm -f $@; ar rcs $@ $^
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libfuzz.a
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_BUILD)/libfuzz.a -l:libowfat.a -lresolv
fuzz-build: $(FUZZ_BIN)
fuzz: deps
	@$(MAKE) -s fuzz-build
	@st=0; for b in $(FUZZ_BIN); do n=$${b##*/}; mkdir -p $(FUZZ_BUILD)/corpus-$$n; \
	  echo "== $$n ($(FUZZ_TIME) s)"; \
	  if $$b -max_total_time=$(FUZZ_TIME) -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/ \
	    $(FUZZ_BUILD)/corpus-$$n $$(ls -d tests/fuzz/corpus/$$n 2>/dev/null) > $(FUZZ_BUILD)/$$n.log 2>&1; \
	  then tail -5 $(FUZZ_BUILD)/$$n.log; else tail -40 $(FUZZ_BUILD)/$$n.log; st=1; fi; done; exit $$st

# ---- make run: leaf + stand-in receiver on loopback, in the foreground ----
run: deps-run
	@$(MAKE) -s all
	@bash tests/lib/make-run.sh

# ---- benchmarks (never part of check) -----------------------------------
bench: bench-leaf bench-accept bench-local bench-scale bench-remote bench-spool bench-tls bench-pop3
bench-leaf: all
	bash tests/bench/leaf.sh
bench-accept: all
	bash tests/bench/accept.sh
bench-local: all
	bash tests/bench/local.sh
bench-scale: all
	bash tests/bench/scale.sh
bench-remote: all
	BUILD=$(BUILD) bash tests/bench/remote.sh
bench-spool: all
	BUILD=$(BUILD) bash tests/bench/spool.sh
bench-tls: all
	BUILD=$(BUILD) bash tests/bench/tls.sh
bench-goals: all
	BUILD=$(BUILD) bash tests/bench/goals.sh
# packages only the benchmarks need (installed by their targets, not by make deps)
BENCH_PKGS := dovecot-core dovecot-pop3d
.PHONY: bench-pop3
bench-pop3: all
	@sh tests/lib/deps.sh $(BENCH_PKGS)
	BUILD=$(BUILD) bash tests/bench/pop3.sh

# install: a hub home (leaf programs too, bin/qmail-queue the real queue)
install: all
	@DOMAIN='$(DOMAIN)' STATIC_PROGS='$(STATIC_PROGS)' STATIC_LDFLAGS='$(STATIC_LDFLAGS)' \
	  CRYPT_PROGS='$(CRYPT_PROGS)' \
	  TLS_PROGS='$(TLS_PROGS) $(DKIM_PROGS)' TLS_LIBS='$(TLS_LIBS)' \
	  sh hub/install-hub.sh '$(QMAILHOME)' '$(BUILD)' '$(CC) $(ALL_LDFLAGS)' '$(LDLIBS) -lresolv' \
	  '$(LEAF_PROGS)' '$(LEAF_SCRIPTS)' '$(HUB_PROGS)'

# ---- Debian packages (docs/packages.md) -----------------------------------
# make deb [DEB_BUILD=DIR] [DEB_VERSION=V]: qmail-hub and qmail-leaf .debs in
# DIR (packaging/mkdeb.sh; V adds a changelog entry, for an upgrade test).
# deb-stage is what debian/rules calls: one package laid out in DESTDIR
# (progs: the programs alone, without the unit tests).
DEB_BUILD ?= build-deb
.PHONY: deb deb-stage progs
deb:
	sh packaging/mkdeb.sh '$(DEB_BUILD)' '$(DEB_VERSION)'
progs: $(LEAF_BIN) $(HUB_BIN)
deb-stage: progs
	@STATIC_PROGS='$(STATIC_PROGS)' STATIC_LDFLAGS='$(STATIC_LDFLAGS)' CRYPT_PROGS='$(CRYPT_PROGS)' \
	  TLS_PROGS='$(TLS_PROGS) $(DKIM_PROGS)' TLS_LIBS='$(TLS_LIBS)' \
	  sh packaging/stage.sh '$(PKG)' '$(DESTDIR)' '$(BUILD)' '$(CC) $(ALL_LDFLAGS)' '$(LDLIBS) -lresolv' \
	  '$(LEAF_PROGS)' '$(LEAF_SCRIPTS)' '$(HUB_PROGS)'

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
-include $(if $(filter fuzz%,$(MAKECMDGOALS)),$(shell find $(FUZZ_BUILD) -name '*.d' -type f 2>/dev/null))

clean:
	rm -rf build build-san build-fuzz
