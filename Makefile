# strata: `make run` and `make test` do all set-up on a fresh Debian 12.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
SOCKFUZZ_SECONDS ?= 60

.PHONY: all bootstrap build run test test-fast asan fuzz bench format clean

all: build

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@echo "== strata check examples/sample (the sample project shipped in the repo)"
	@$(BUILD)/strata check examples/sample; status=$$?; \
	  echo "== exit status $$status (0 clean, 1 diagnostics, 2 error)"; \
	  [ $$status -le 1 ]

asan: bootstrap
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTRATA_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# libFuzzer targets (tests/fuzz), clang with ASan and UBSan: each runs
# FUZZ_SECONDS from its seeds; a crash fails and names its input. Then the
# socket fuzzer against the live daemons of the release build, SOCKFUZZ_SECONDS
# per daemon (a coordinator without keys, one with keys, a worker).
fuzz: build
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)
	@tests/fuzz/sockfuzz.sh $(BUILD)/strata $(SOCKFUZZ_SECONDS)

test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test: build asan
	@echo "== tests (release build)"
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@echo "== tests (AddressSanitizer + UndefinedBehaviorSanitizer)"
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

bench: build
	@scripts/bench-deps.sh
	@bench/run_all.sh $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
