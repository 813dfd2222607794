# Brook — build, run and test. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
KAFKA_PROTOCOL ?= ../shared/kafka-protocol
GENERATED := Sources/BrookProtocol/Generated
APT_PACKAGES := zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev kcat
PY_REQUIREMENTS := Tests/InteropTests/requirements.txt

.PHONY: run test deps build generate check-generated bench fmt clean

## Build and start a broker with zero configuration (127.0.0.1:9092, ./brook-data).
run: deps-apt
	$(SWIFT) build -c release --product brook
	.build/release/brook server

## Install what the tests need, build everything and run every test.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-xctest
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

## Regenerate the Kafka protocol messages from Apache Kafka's JSON definitions.
generate:
	$(SWIFT) run brook-codegen $(KAFKA_PROTOCOL) $(GENERATED)

## Fail when the committed generated code differs from what the generator writes now.
check-generated:
	$(SWIFT) run brook-codegen --check $(KAFKA_PROTOCOL) $(GENERATED)

## Run the benchmarks (ordo-one/benchmark) in their own build folder.
bench: deps-apt
	BROOK_BENCHMARKS=1 $(SWIFT) package --scratch-path .build-bench benchmark

clean:
	rm -rf .build
