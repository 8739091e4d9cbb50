# kiln: the two commands that matter are `make run` and `make test`.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
SAN_BUILD ?= build-san
FUZZ_BUILD ?= build-fuzz
DATA_DIR ?= $(CURDIR)/run-data
LISTEN ?= 127.0.0.1:8787

.PHONY: all deps build build-san build-fuzz test fuzz bench run format clean

all: build

deps:
	@scripts/install-deps.sh

# -g1 (line tables): backtraces keep file:line, and the build takes about a third less time.
$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The sanitizer tree: clang, ASan+UBSan with assertions on (Debug), the core libraries with
# their unit tests and the parsers' fuzz targets, all in one tree so the libraries compile once.
$(SAN_BUILD)/build.ninja:
	CXX=clang++ cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKILN_SANITIZE=ON -DKILN_FUZZ=ON

build-san: deps $(SAN_BUILD)/build.ninja
	cmake --build $(SAN_BUILD) -j $(JOBS)

# Only the fuzz targets (and the libraries they link), for fuzzing longer by hand.
$(FUZZ_BUILD)/build.ninja:
	CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_FUZZ=ON

build-fuzz: deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target kiln_fuzz_targets

# The whole suite: unit, crash and model tests; the core libraries again under ASan+UBSan;
# then each parser's fuzz target for a bounded time.
# To fit CI's 2 cores: the normal tree's CPU-bound tests run first in parallel; then its host
# and end-to-end tests run while the sanitizer tree builds at the lowest CPU priority (nice 19),
# so the tests keep the CPU they need. The host tests (root, FUSE, loop devices) run alone
# (RUN_SERIAL); the end-to-end files, each with its own kilnd, data dir and port and mostly
# waiting on guests and clients, two at a time.
# The build's output goes to a log, printed if the build fails.
test: build $(SAN_BUILD)/build.ninja
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900 -LE 'host|e2e'
	@log=$(CURDIR)/$(SAN_BUILD)/sanitizer-build.log; \
	nice -n 19 cmake --build $(SAN_BUILD) -j $(JOBS) >$$log 2>&1 & \
	build=$$!; \
	(cd $(BUILD) && ctest --output-on-failure -j 2 --timeout 900 -L 'host|e2e'); tests=$$?; \
	echo "test: waiting for the sanitizer build (log: $$log)"; \
	wait $$build; b=$$?; tail -n 3 $$log; \
	if [ $$b -ne 0 ]; then cat $$log; echo "test: the sanitizer build failed"; fi; \
	[ $$tests -eq 0 ] && [ $$b -eq 0 ]
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900 -LE fuzz
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L fuzz

fuzz: build-san
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L fuzz

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
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)
