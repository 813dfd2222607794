# Brook — build, run and test. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
KAFKA_PROTOCOL ?= ../shared/kafka-protocol
GENERATED := Sources/BrookProtocol/Generated
APT_PACKAGES := zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev kcat openssl
PY_REQUIREMENTS := Tests/InteropTests/requirements.txt

.PHONY: run test deps build generate check-generated bench fmt clean fuzz fuzz-build fuzz-seeds chaos

## Build and start a broker with zero configuration (127.0.0.1:9092, ./brook-data).
run: deps-apt
	$(SWIFT) build -c release --product brook
	.build/release/brook server

## Install what the tests need, build everything and run every test.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-xctest
	$(MAKE) --no-print-directory fuzz FUZZ_CONFIG=debug FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) FUZZ_RUNS=
	python3 -m pytest Tests/InteropTests -q -p no:warnings -p no:cacheprovider

deps: deps-apt deps-pip

deps-apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

deps-pip:
	@python3 scripts/deps/check_requirements.py $(PY_REQUIREMENTS) || \
	  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r $(PY_REQUIREMENTS)
	@python3 scripts/deps/check_requirements.py $(PY_REQUIREMENTS)

build: deps-apt
	$(SWIFT) build

## The deterministic simulations over many more seeds than `make test` runs (CHAOS_SEEDS each):
## the Raft quorum, KIP-848 groups and ISR replication; then the replication fault suite with CHAOS_ROUNDS faults
## drawn from a random seed (BROOK_CHAOS_SEED=N replays one; a failure prints the seed).
CHAOS_SEEDS ?= 5000
CHAOS_ROUNDS ?= 20
chaos: deps
	$(SWIFT) build --build-tests
	BROOK_SIMULATION_SEEDS=$(CHAOS_SEEDS) $(SWIFT) test --skip-build --disable-xctest \
	  --filter 'RaftSimulationTests|ConsumerGroupSimulationTests|ReplicationSimulationTests'
	BROOK_CHAOS_ROUNDS=$(CHAOS_ROUNDS) python3 -m pytest Tests/InteropTests/test_replication_faults.py \
	  -k random_faults -q -s -p no:warnings -p no:cacheprovider

## Regenerate the Kafka protocol messages from Apache Kafka's JSON definitions.
generate:
	$(SWIFT) run brook-codegen $(KAFKA_PROTOCOL) $(GENERATED)

## Fail when the committed generated code differs from what the generator writes now.
check-generated:
	$(SWIFT) run brook-codegen --check $(KAFKA_PROTOCOL) $(GENERATED)

## Run the benchmarks (ordo-one/benchmark) in their own build folder.
bench: deps-apt
	BROOK_BENCHMARKS=1 $(SWIFT) package --scratch-path .build-bench benchmark

## Fuzzing (libFuzzer, see Sources/BrookFuzzTargets): build brook-fuzz with -sanitize=fuzzer in
## its own scratch path and run every target for FUZZ_SECONDS each (or FUZZ_RUNS executions).
## `make test` runs each target for FUZZ_TEST_SECONDS from a debug build (FUZZ_CONFIG=debug),
## which compiles in a fraction of the release build's time.
FUZZ_SCRATCH ?= .build-fuzz
FUZZ_CONFIG ?= release
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
FUZZ_TEST_SECONDS ?= 10
FUZZ_TARGETS ?= frames request broker record-batch message-set decompress coordinator-record metadata-record quorum metadata-image sasl-token

fuzz-build: deps-apt
	BROOK_FUZZ=1 $(SWIFT) build -c $(FUZZ_CONFIG) --sanitize=fuzzer --scratch-path $(FUZZ_SCRATCH) --product brook-fuzz

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) \
	  scripts/fuzz/run.sh $(FUZZ_SCRATCH)/$(FUZZ_CONFIG)/brook-fuzz $(FUZZ_SCRATCH)/fuzz $(FUZZ_TARGETS)

## Rebuild the committed seed corpora from the captured client fixtures and Brook's encoders.
fuzz-seeds:
	$(SWIFT) run brook-fuzz --write-seeds Tests/BrookFuzzTargetsTests/Corpus \
	  Tests/BrookProtocolTests/Fixtures/requests Tests/BrookRecordsTests/Fixtures

clean:
	rm -rf .build
