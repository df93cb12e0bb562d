# secondnum - build, test and demo.
#
#   make            release build: build/secondnum
#   make check      install missing Debian packages (as root), build with
#                   ASan+UBSan, run every test (unit, CLI, integration, browser),
#                   then the CLI and integration suites again on PostgreSQL,
#                   then the Debian package's test (make test-package)
#   make demo       build, generate demo data, start the service (on
#                   127.0.0.1:8080, or DEMO_LISTEN=HOST:PORT make demo)
#   make CC=clang   any target with clang instead of gcc
#   make deps       only install the Debian packages
#   make install    install under PREFIX (default /usr/local), DESTDIR for staging
#   make deb        a Debian package from a release build: build/deb/*.deb
#   make test-package  build the package, lintian it, install it into a
#                   temporary root and run it (tests/package/test_deb.sh)

# Every build runs in parallel, one job per core, unless -j is given.
NPROC   := $(shell nproc 2>/dev/null || echo 2)
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(NPROC)
endif

CC      ?= cc
PKGS    := sqlite3 libsodium jansson libcrypto libcurl libpq inih libsystemd cjose
CSTD    := -std=c11 -D_GNU_SOURCE -DH2O_USE_LIBUV=0
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
INC     := -Isrc
DEPS_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEPS_LIBS   := -lh2o-evloop $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lsqlite3 -lsodium -ljansson -lcrypto -lcurl -lpq -linih -lsystemd -lcjose) -lm -lpthread

BUILD   ?= build
ifeq ($(SANITIZE),1)
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDSAN   := -fsanitize=address,undefined
else
OPT     := -O2 -g
LDSAN   :=
endif
CFLAGS  ?=
CFLAGS  += $(CSTD) $(WARN) $(OPT) $(INC) $(DEPS_CFLAGS)
LDFLAGS += $(LDSAN)

# Every source file under src/ (two levels of folders), found by wildcard;
# src/cli/ is the binary's own, the rest is the library the tests link.
SRC_CLI := $(wildcard src/cli/*.c)
SRC_LIB := $(filter-out $(SRC_CLI),$(wildcard src/*/*.c src/*/*/*.c))
OBJ_LIB := $(SRC_LIB:%.c=$(BUILD)/obj/%.o)
OBJ_CLI := $(SRC_CLI:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check test test-pg unit cli-tests demo bench clean format tidy fuzz \
        install uninstall deb test-package

all: $(BUILD)/secondnum

OPENAPI ?= docs/openapi.yaml

$(BUILD)/secondnum: $(OBJ_LIB) $(OBJ_CLI) $(BUILD)/obj/openapi.o
	$(CC) $(LDFLAGS) -o $@ $^ $(DEPS_LIBS)

# The OpenAPI document is compiled into the binary and served at /openapi.yaml.
$(BUILD)/obj/openapi.o: $(OPENAPI) scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh sn_openapi_yaml $(OPENAPI) > $(BUILD)/obj/openapi.c
	$(CC) $(CFLAGS) -c $(BUILD)/obj/openapi.c -o $@

# The subscriber portal (web/) is compiled in too and served at "/", and the
# regulator and operator dashboard (web/admin/) at "/admin/", with the
# charting library it draws with (Chart.js from npm, at the version
# web/admin/package-lock.json pins; never copied into the repository). The
# build fails when npm cannot install it: no page goes out without charts.
WEB_FILES := $(wildcard web/*.html web/*.js web/*.css web/*.svg)
ADMIN_FILES := $(wildcard web/admin/*.html web/admin/*.js web/admin/*.css)
ADMIN_DEPS := web/admin/node_modules/.installed
CHART_JS := web/admin/node_modules/chart.js/dist/chart.umd.min.js
$(ADMIN_DEPS): web/admin/package.json web/admin/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to bundle Chart.js into /admin (make deps installs it)"; exit 1; }
	cd web/admin && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed
$(BUILD)/secondnum: $(BUILD)/obj/web.o
$(BUILD)/obj/web.o: $(WEB_FILES) $(ADMIN_FILES) $(ADMIN_DEPS) scripts/embed_web.sh
	@mkdir -p $(dir $@)
	scripts/embed_web.sh $(WEB_FILES) $(foreach f,$(ADMIN_FILES),/admin/$(notdir $(f))=$(f)) \
	  /admin/chart.umd.min.js=$(CHART_JS) > $(BUILD)/obj/web.c
	$(CC) $(CFLAGS) -c $(BUILD)/obj/web.c -o $@

# q, not r: members are appended, so files of the same name in two folders
# (store/log.c, store/sqlite/log.c) are both kept.
$(BUILD)/libsecondnum.a: $(OBJ_LIB)
	rm -f $@
	ar qcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libsecondnum.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(UNIT_OBJ) $(BUILD)/libsecondnum.a -lcmocka $(DEPS_LIBS)

# test_routename reads the route table, whose handlers serve the embedded files.
$(BUILD)/tests/test_routename: UNIT_OBJ = $(BUILD)/obj/openapi.o $(BUILD)/obj/web.o
$(BUILD)/tests/test_routename: $(BUILD)/obj/openapi.o $(BUILD)/obj/web.o

-include $(OBJ_LIB:.o=.d) $(OBJ_CLI:.o=.d)

# Debian packages the build, the tests and the benchmarks need.
DEB_PKGS := build-essential clang libclang-rt-dev pkg-config libsqlite3-dev sqlite3 libinih-dev libsodium-dev libcmocka-dev \
            libjansson-dev libh2o-evloop-dev libssl-dev zlib1g-dev libcurl4-openssl-dev \
            libpq-dev libsystemd-dev libcjose-dev python3-jwt python3-cryptography python3-nacl postgresql valgrind \
            systemd lintian dpkg-dev groff-base man-db prometheus wrk nginx-light hyperfine redis-server curl python3 chromium fonts-wqy-microhei

deps:
	@if [ "$$(id -u)" = 0 ]; then \
	  missing=$$(for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  fi; \
	else echo "deps: not root, assuming the Debian packages are installed"; fi
	@if [ "$$(id -u)" = 0 ] && ! command -v npm >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; fi

# playwright-core for the portal's browser tests (tests/browser), from npm at
# the version package-lock.json pins; it drives Debian's chromium.
BROWSER_DEPS := tests/browser/node_modules/.installed
$(BROWSER_DEPS): tests/browser/package.json tests/browser/package-lock.json
	-cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed
test: $(BROWSER_DEPS)

# The OpenAPI tools (tests/integration/test_openapi_tools.sh): two validators
# (@apidevtools/swagger-parser, @redocly/cli) and a client generator
# (openapi-typescript-codegen, compiled with typescript), pinned by
# tests/openapi/package-lock.json.
OPENAPI_DEPS := tests/openapi/node_modules/.installed
$(OPENAPI_DEPS): tests/openapi/package.json tests/openapi/package-lock.json
	-cd tests/openapi && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed
test: $(OPENAPI_DEPS)

# The test build lives in its own directory so release objects never mix with sanitized ones;
# the code must also compile cleanly (-Werror) with clang.
check: deps
	$(MAKE) --no-print-directory CC=clang BUILD=build/clang build/clang/secondnum
	$(MAKE) --no-print-directory SANITIZE=1 BUILD=build/asan test
	$(MAKE) --no-print-directory SANITIZE=1 BUILD=build/asan test-pg
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=6
	$(MAKE) --no-print-directory test-package

test: $(BUILD)/secondnum $(UNIT_BIN)
	@SECONDNUM=$(BUILD)/secondnum UNIT_DIR=$(BUILD)/tests tests/run.sh

# The CLI and integration suites again on PostgreSQL (a private server from
# Debian's packages, started and removed by tests/pg/run.sh), then the
# PostgreSQL backend's own cases (tests/pg/test_*.sh).
test-pg: $(BUILD)/secondnum
	@SECONDNUM=$(BUILD)/secondnum tests/pg/run.sh

unit: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do $$t || exit 1; done

# deps first (npm among them: the build bundles Chart.js), then the build.
demo: deps
	@$(MAKE) --no-print-directory all
	@./scripts/demo.sh $(BUILD)/secondnum

bench: all
	@bench/ingest.sh

# libFuzzer drivers for every parser of untrusted input (fuzz/README.md):
# each runs FUZZ_SECONDS from its checked-in corpus; a finding fails the
# target (its input is left in build/fuzz/). make check runs them briefly.
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := number date csv flatjson flatjson_array query event head webhook
FUZZ_SRC := src/core/*.c src/feed/csv.c src/feed/feed.c src/crypto/secret.c \
            src/http/flatjson.c src/http/query.c src/http/head.c src/delivery/webhook.c \
            src/util/netaddr.c
fuzz:
	@mkdir -p build/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  clang $(CSTD) $(INC) $(DEPS_CFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
	    fuzz/fuzz_$$t.c $(FUZZ_SRC) -lsodium -lcurl -lh2o-evloop -lssl -lcrypto -lz \
	    -o build/fuzz/fuzz_$$t || exit 1; \
	  mkdir -p build/fuzz/corpus_$$t; \
	  if build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/$$t- \
	       build/fuzz/corpus_$$t fuzz/corpus/$$t >build/fuzz/$$t.log 2>&1; then \
	    echo "fuzz_$$t: $$(grep -c . fuzz/corpus/$$t/* /dev/null | wc -l) seeds, $$(tail -1 build/fuzz/$$t.log)"; \
	  else \
	    tail -25 build/fuzz/$$t.log; echo "fuzz_$$t: FOUND a failing input (build/fuzz/$$t-*)"; exit 1; \
	  fi; \
	done

# make install: the binary (the portal and the OpenAPI document are compiled
# in), the man pages, the docs, the example config, and the systemd unit.
# The config goes to SYSCONFDIR/secondnum/secondnum.conf only when none is
# there (a local one is never overwritten). The unit goes to
# /lib/systemd/system only when PREFIX=/usr; for any other PREFIX a copy
# whose ExecStart names PREFIX/bin/secondnum goes with the docs, to copy into
# /etc/systemd/system.
PREFIX     ?= /usr/local
DESTDIR    ?=
SYSCONFDIR ?= /etc
BINDIR     := $(PREFIX)/bin
MANDIR     := $(PREFIX)/share/man
DOCDIR     := $(PREFIX)/share/doc/secondnum
UNITDIR    := /lib/systemd/system
INSTALL_DOCS := README.md docs/operations.md docs/http-api.md

install: $(BUILD)/secondnum
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/secondnum $(DESTDIR)$(BINDIR)/secondnum
	install -m 0644 man/secondnum.1 $(DESTDIR)$(MANDIR)/man1/secondnum.1
	install -m 0644 man/secondnum.conf.5 $(DESTDIR)$(MANDIR)/man5/secondnum.conf.5
	install -m 0644 $(INSTALL_DOCS) dist/secondnum.conf $(DESTDIR)$(DOCDIR)/
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/secondnum/secondnum.conf ]; then \
	  echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/secondnum/secondnum.conf (the default is in $(DOCDIR))"; \
	else \
	  install -d $(DESTDIR)$(SYSCONFDIR)/secondnum && \
	  install -m 0644 dist/secondnum.conf $(DESTDIR)$(SYSCONFDIR)/secondnum/secondnum.conf; \
	fi
	@if [ "$(PREFIX)" = /usr ]; then \
	  install -d $(DESTDIR)$(UNITDIR) && \
	  install -m 0644 dist/secondnum.service $(DESTDIR)$(UNITDIR)/secondnum.service; \
	else \
	  sed 's|/usr/bin/secondnum|$(BINDIR)/secondnum|' dist/secondnum.service >$(DESTDIR)$(DOCDIR)/secondnum.service && \
	  echo "install: the systemd unit for $(BINDIR)/secondnum is $(DOCDIR)/secondnum.service"; \
	fi

# Everything install put there but the config (it may hold local changes).
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/secondnum $(DESTDIR)$(MANDIR)/man1/secondnum.1 \
	  $(DESTDIR)$(MANDIR)/man5/secondnum.conf.5
	rm -rf $(DESTDIR)$(DOCDIR)
	if [ "$(PREFIX)" = /usr ]; then rm -f $(DESTDIR)$(UNITDIR)/secondnum.service; fi

# make deb: a release build (never sanitized) with Debian's hardening flags,
# staged and packed by scripts/mkdeb.sh into build/deb/secondnum_VERSION_ARCH.deb.
DEB_BUILD := build/release
deb:
	DEB_BUILD_MAINT_OPTIONS=hardening=+all \
	CFLAGS="$$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CFLAGS) $$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CPPFLAGS)" \
	LDFLAGS="$$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get LDFLAGS)" \
	  $(MAKE) --no-print-directory SANITIZE= BUILD=$(DEB_BUILD) $(DEB_BUILD)/secondnum
	scripts/mkdeb.sh $(DEB_BUILD)/secondnum build/deb

# The package test: lintian (no errors), installed into a temporary root
# with dpkg --root (SN_PACKAGE_INSTALL=system: into this machine with
# dpkg -i, for a throwaway CI machine), then run.
test-package: deb
	@tests/package/test_deb.sh build/deb/secondnum_*.deb

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

tidy:
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
	  --inline-suppr -Isrc --suppress=missingIncludeSystem src

clean:
	rm -rf build
