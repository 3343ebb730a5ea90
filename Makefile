# Switchyard's front door. `make help` lists the targets.
#
# Everything here is a thin wrapper: the C++ build lives in CMakePresets.json, installs in
# scripts/deps.sh, contract checks in scripts/buf-check.sh, the local stack in scripts/up.sh.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# Prerequisites run in the order written (deps before build before tests), even under -j.
.NOTPARALLEL:

# Tools installed by `make deps` come first, then Go itself.
export PATH := $(CURDIR)/.tools/bin:/usr/local/go/bin:$(PATH)

JOBS ?= 2
# Compiles go through ccache when it is installed (`make deps` installs it): CMake reads this
# variable when it first configures a build directory, so the dev, tsan and asan builds of a
# machine that has built the project before recompile only what changed, even from a fresh
# clone at the same path (CI). Debug builds hash the build directory's path (ccache's default,
# so debug info never names another checkout's files): a clone elsewhere starts cold.
# A directory configured before this (or with the variable set empty) keeps what it had.
CCACHE := $(shell command -v ccache 2>/dev/null)
export CMAKE_CXX_COMPILER_LAUNCHER ?= $(CCACHE)
export CCACHE_BASEDIR ?= $(CURDIR)
# Warnings are errors in CI (CI=true), and only there.
WERROR := $(if $(filter true,$(CI)),ON,OFF)
CXX_SOURCES = $(shell git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp')

.PHONY: help deps build test unit integration release asan tsan lint format up clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk -F':.*## ' '{ printf "  make %-12s %s\n", $$1, $$2 }'

deps: ## install Debian packages and the pinned Go tools (idempotent)
	bash scripts/deps.sh

build: ## configure and build the dev preset (Debug) into build/dev
	cmake --preset dev -DSWITCHYARD_WERROR=$(WERROR)
	cmake --build --preset dev -j $(JOBS)

test: deps build ## everything CI runs: all tests, then buf lint and breaking checks
	ctest --preset dev
	bash scripts/buf-check.sh

unit: build ## unit tests only (no network)
	ctest --preset dev -L unit

integration: build ## integration tests only (real redis-server and gRPC on loopback)
	ctest --preset dev -L integration

release: ## optimised build into build/release
	cmake --preset release -DSWITCHYARD_WERROR=$(WERROR)
	cmake --build --preset release -j $(JOBS)

asan: ## build with AddressSanitizer and UBSan into build/asan and run all tests
	cmake --preset asan -DSWITCHYARD_WERROR=$(WERROR)
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

tsan: ## build with ThreadSanitizer into build/tsan and run the unit and integration tests
	cmake --preset tsan -DSWITCHYARD_WERROR=$(WERROR)
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan

lint: ## buf lint and breaking checks, and clang-format in check mode
	bash scripts/buf-check.sh
	@echo "clang-format: checking $(words $(CXX_SOURCES)) files"
	@$(if $(CXX_SOURCES),clang-format --dry-run -Werror $(CXX_SOURCES))

format: ## rewrite our C++ sources with clang-format
	@echo "clang-format: formatting $(words $(CXX_SOURCES)) files"
	@$(if $(CXX_SOURCES),clang-format -i $(CXX_SOURCES))

up: deps ## build release and run the stack locally; Ctrl-C stops it
	bash scripts/up.sh

.PHONY: cluster cluster-down
cluster: deps ## a local kind cluster running the dev overlay (deploy/README.md); stays up
	image="$$(bash deploy/kind/prepare.sh)"; KIND_NODE_IMAGE="$$image" bash deploy/kind/up.sh

cluster-down: ## delete the cluster `make cluster` made
	kind delete cluster --name "$${KIND_CLUSTER:-switchyard}"

.PHONY: docker
docker: ## build the container images compose.yaml runs (no registry needed)
	bash docker/build-images.sh builder gateway user-service data-service

clean: ## remove build trees and local run state (keeps .tools)
	rm -rf build .run
