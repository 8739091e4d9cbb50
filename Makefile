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

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKILN_SANITIZE=ON -DKILN_CORE_ONLY=ON

build-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

$(FUZZ_BUILD)/build.ninja:
	CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_FUZZ=ON

build-fuzz: deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# The whole suite: unit, crash and model tests; the core libraries again under ASan+UBSan;
# then each parser's fuzz target for a bounded time.
test: build build-asan build-fuzz
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900
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
	$(if $(filter 0,$(shell id -u)),,sudo) $(BUILD)/kilnd --data-dir $(DATA_DIR) --listen $(LISTEN)

format:
	find src bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
