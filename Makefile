# kiln: the two commands that matter are `make run` and `make test`.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
DATA_DIR ?= $(CURDIR)/run-data
LISTEN ?= 127.0.0.1:8787

.PHONY: all deps build build-asan build-fuzz test fuzz bench run format clean

all: build

deps:
	@scripts/install-deps.sh

# -g1 (line tables): backtraces keep file:line, and the build takes about a third less time.
$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKILN_SANITIZE=ON -DKILN_CORE_ONLY=ON

build-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

$(FUZZ_BUILD)/build.ninja:
	CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_FUZZ=ON

build-fuzz: deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target kiln_fuzz_targets

# The whole suite: unit, crash and model tests; the core libraries again under ASan+UBSan;
# then each parser's fuzz target for a bounded time.
# To fit CI's 2 cores: the normal tree's CPU-bound tests run first in parallel; then its host
# and end-to-end tests run while the ASan and fuzz trees build at the lowest CPU priority
# (nice 19), so the tests keep the CPU they need. The host tests (root, FUSE, loop devices)
# run alone (RUN_SERIAL); the end-to-end files, each with its own kilnd, data dir and port and
# mostly waiting on guests and clients, two at a time.
# The builds' output goes to a log, printed if a build fails.
test: build $(ASAN_BUILD)/build.ninja $(FUZZ_BUILD)/build.ninja
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900 -LE 'host|e2e'
	@log=$(CURDIR)/$(ASAN_BUILD)/sanitizer-builds.log; \
	( nice -n 19 cmake --build $(ASAN_BUILD) -j $(JOBS) && \
	  nice -n 19 cmake --build $(FUZZ_BUILD) -j $(JOBS) --target kiln_fuzz_targets ) >$$log 2>&1 & \
	builds=$$!; \
	(cd $(BUILD) && ctest --output-on-failure -j 2 --timeout 900 -L 'host|e2e'); tests=$$?; \
	echo "test: waiting for the ASan and fuzz builds (log: $$log)"; \
	wait $$builds; b=$$?; tail -n 3 $$log; \
	if [ $$b -ne 0 ]; then cat $$log; echo "test: the ASan/fuzz build failed"; fi; \
	[ $$tests -eq 0 ] && [ $$b -eq 0 ]
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j $(JOBS)

fuzz: build-fuzz
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	$(BUILD)/kiln-bench storage

# kilnd in the foreground with embedded defaults; it prints how to point the AWS CLI at it.
# Instances are containers, so it runs as root (sudo if needed).
run: build
	@echo "kilnd: data in $(DATA_DIR); point clients at http://$(LISTEN) with the keys in $(DATA_DIR)/credentials"
	@echo "kilnd: the web console is http://$(LISTEN)/console/; from another terminal, $(BUILD)/kiln images --owner kiln"
	$(if $(filter 0,$(shell id -u)),,sudo) $(BUILD)/kilnd --data-dir $(DATA_DIR) --listen $(LISTEN)

format:
	find src bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
