# LocalBridge: thin wrapper around CMake. `make run` and `make test` set up a fresh Debian/Ubuntu
# machine (missing packages only), build, and run.
BUILD   ?= build
TYPE    ?= RelWithDebInfo
LISTEN  ?= 127.0.0.1:4010
DATA    ?= ./var
PYTHON  ?= /usr/bin/python3
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build run test unit integration bench fuzz fuzz-build asan sanitize valgrind \
        install clean soak format format-check release-builds console-screenshot

all: build

deps:
	@.ci/deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(TYPE) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/localbridge serve --listen $(LISTEN) --data-dir $(DATA)

# The whole suite: Check unit tests, then black-box integration tests against the real binary.
test: build
	$(PYTHON) tests/run_suite.py --build $(BUILD)

# The web console's pictures in the README (docs/console.png, docs/console-event.png), taken by
# its Chromium test against a fresh daemon.
console-screenshot: build
	cd tests/console && npm ci --no-audit --no-fund && \
	  node console_test.js --binary ../../$(BUILD)/localbridge --screenshot ../../docs/console.png

unit: build
	cd $(BUILD) && ctest --output-on-failure

integration: build
	$(PYTHON) tests/run_suite.py --build $(BUILD) --integration-only

bench: build
	$(PYTHON) tests/bench/run_bench.py --build $(BUILD)

# libFuzzer targets (tests/fuzz/fuzz_*.c) in their own clang build, every library instrumented
# for coverage, ASan and UBSan. Each runs FUZZ_SECONDS on a scratch copy of its seeds (the
# checked-in corpora never grow); a crash, leak or timeout fails the target and leaves the
# reproducer in $(FUZZ_BUILD)/artifacts/. FUZZERS picks a subset: make fuzz FUZZERS=fuzz_http
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZERS      ?= $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

fuzz-build: deps
	@test -f $(FUZZ_BUILD)/CMakeCache.txt || \
	  CC=$(FUZZ_CC) cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLB_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers

fuzz: fuzz-build
	@set -e; mkdir -p $(FUZZ_BUILD)/artifacts; \
	for f in $(FUZZERS); do \
	  name=$${f#fuzz_}; seeds=tests/fuzz/$${name}_seeds; corpus=$(FUZZ_BUILD)/corpus/$$name; \
	  rm -rf $$corpus; mkdir -p $$corpus; \
	  if [ -d $$seeds ]; then cp -r $$seeds/. $$corpus/; fi; \
	  echo "== $$f: $(FUZZ_SECONDS)s"; \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(FUZZ_BUILD)/$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$f- \
	    $$corpus 2>$(FUZZ_BUILD)/$$f.log || { tail -n 60 $(FUZZ_BUILD)/$$f.log; exit 1; }; \
	  grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|Done)' \
	    $(FUZZ_BUILD)/$$f.log || true; \
	done

# The whole suite (unit + integration) against an ASan+UBSan build. Every sanitizer report,
# including LeakSanitizer's at a process's exit, lands in $(ASAN_BUILD)/sanitizer-logs/ (and
# makes that process fail); any report there fails the target even when the process that
# wrote it was one whose exit status no test looks at. LB_SANITIZED tells tests that measure
# memory (RSS bounds) that ASan's shadow memory and quarantine are in the numbers.
ASAN_BUILD ?= build-asan
# clang's UBSan has -fsanitize=float-cast-overflow (gcc's lacks it): make asan ASAN_CC=clang
ASAN_CC    ?= cc
comma      := ,
ASAN_SAN   ?= $(if $(filter clang,$(ASAN_CC)),address$(comma)undefined$(comma)float-cast-overflow,address$(comma)undefined)
SAN_LOGS    = $(abspath $(ASAN_BUILD))/sanitizer-logs
SAN_ENV     = LB_SANITIZED=address,undefined \
              ASAN_OPTIONS=detect_leaks=1:log_path=$(SAN_LOGS)/asan \
              LSAN_OPTIONS=log_path=$(SAN_LOGS)/lsan \
              UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(SAN_LOGS)/ubsan

asan sanitize: deps
	@test -f $(ASAN_BUILD)/CMakeCache.txt || \
	  CC=$(ASAN_CC) cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=$(TYPE) -DLB_SANITIZE=$(ASAN_SAN)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	@rm -rf $(SAN_LOGS); mkdir -p $(SAN_LOGS)
	@rc=0; $(SAN_ENV) $(PYTHON) tests/run_suite.py --build $(ASAN_BUILD) || rc=$$?; \
	if [ -n "$$(ls -A $(SAN_LOGS))" ]; then \
	  for f in $(SAN_LOGS)/*; do echo "==== $$f"; cat "$$f"; done; \
	  echo "sanitizer reports in $(SAN_LOGS)"; exit 1; \
	fi; exit $$rc

# Valgrind memcheck over every Check runner, unforked so the tests themselves are checked.
valgrind: build
	@set -e; failed=""; for t in $(BUILD)/test_*; do \
	  case $$t in *.log) continue;; esac; echo "== valgrind $$t"; \
	  CK_FORK=no valgrind -q --error-exitcode=1 --leak-check=full \
	    --track-origins=yes $$t >$$t.valgrind.log 2>&1 || { cat $$t.valgrind.log; failed="$$failed $$t"; }; \
	done; \
	if [ -n "$$failed" ]; then echo "valgrind failed:$$failed"; exit 1; fi

# Longer crash runs than `make test` affords: kill -9 under load, SOAK_CYCLES times.
SOAK_CYCLES ?= 300
soak: build
	LB_CRASH_CYCLES=$(SOAK_CYCLES) $(PYTHON) tests/run_suite.py --build $(BUILD) \
	  --integration-only --pattern 'test_crash.py'

# .clang-format is the style of every C file; CI fails on any difference (format-check).
CLANG_FORMAT ?= clang-format
FORMATTED     = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h')

format:
	@$(CLANG_FORMAT) -i $(FORMATTED)

format-check:
	@$(CLANG_FORMAT) --dry-run -Werror $(FORMATTED) && echo "format-check: clean"

# Every build type with both compilers, every target, warnings as errors: what packagers and
# the Docker image (Release) build. Each in its own directory under build-matrix/.
RELEASE_BUILDS ?= gcc:Release clang:Release gcc:RelWithDebInfo clang:RelWithDebInfo gcc:Debug clang:Debug

release-builds: deps
	@set -e; for b in $(RELEASE_BUILDS); do \
	  cc=$${b%%:*}; type=$${b##*:}; dir=build-matrix/$$cc-$$type; \
	  echo "== $$cc $$type"; \
	  test -f $$dir/CMakeCache.txt || CC=$$cc cmake -S . -B $$dir -DCMAKE_BUILD_TYPE=$$type >/dev/null; \
	  cmake --build $$dir -j $(JOBS) >$$dir.log 2>&1 || { tail -n 40 $$dir.log; exit 1; }; \
	done; echo "release-builds: all clean"

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) build-matrix
