# zenith: the two commands of the README, and the CI extras.
#   make bench   install what is missing, build, run the default benchmark
#   make test    install what is missing, build, run the test suite
# The build itself is CMake (see CMakeLists.txt); this file only drives it.

BUILD       ?= build
SAN_BUILD   ?= build-sanitize
FUZZ_BUILD  ?= build-fuzz
JOBS        ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps build test test-sanitize test-interop fuzz bench clean

all: build

deps:
	bash scripts/setup.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The suite under AddressSanitizer + UndefinedBehaviorSanitizer (tests labelled
# "slow" — whole-model runs on the reference backend — are left to `make test`).
test-sanitize: deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DZN_SANITIZE=ON
	cmake --build $(SAN_BUILD) -j$(JOBS)
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j$(JOBS) -LE slow

# PyTorch's ONNX exports of torchvision models, run and compared with PyTorch's
# outputs (installs python3-torch & co. on first use; INTEROP_ARGS=--all for
# every model at opsets 11/13/17). Not part of `make test`.
INTEROP_ARGS ?=
test-interop: deps
	bash scripts/interop.sh $(INTEROP_ARGS)

# The ONNX importer under libFuzzer for a bounded time.
fuzz: deps
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

bench: build
	./$(BUILD)/zenith bench

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)
