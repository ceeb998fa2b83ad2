# The user-facing targets.  The build itself is CMake's (CMakeLists.txt);
# this file only gives it short names.
#
#   make              build into ./build
#   make check        install deps, build, unit tests (plain, ASan+UBSan,
#                     valgrind), integration tests against the lab
#   make demo         install deps, build, start the lab and ferryd, show
#                     the lab's inventory, stop everything
#   make bench        benchmarks (bench/README.md)
#   make install      install into $(PREFIX) (default /usr/local)

BUILD     ?= build
PREFIX    ?= /usr/local
JOBS      ?= $(shell nproc)
CMAKEFLAGS ?=

.PHONY: all build configure check demo bench install deps clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DFERRY_WERROR=ON $(CMAKEFLAGS)

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	scripts/install-deps

check:
	scripts/check

demo:
	scripts/demo

bench: deps build
	bench/run

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
