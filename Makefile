# LocalBridge: thin wrapper around CMake. `make run` and `make test` set up a fresh Debian/Ubuntu
# machine (missing packages only), build, and run.
BUILD   ?= build
TYPE    ?= RelWithDebInfo
LISTEN  ?= 127.0.0.1:4010
DATA    ?= ./var
PYTHON  ?= /usr/bin/python3
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build run test unit integration bench fuzz install clean soak

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

unit: build
	cd $(BUILD) && ctest --output-on-failure

integration: build
	$(PYTHON) tests/run_suite.py --build $(BUILD) --integration-only

bench: build
	$(PYTHON) tests/bench/run_bench.py --build $(BUILD)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD)
