# The one entry point for tasks. `make test` and `make bench` are the README's two commands:
# each builds everything it needs on a fresh machine (the free-threaded interpreter is built
# once and cached in ~/.cache/rthreading, the wheel is built by maturin and pip-installed into
# a virtual environment per interpreter) and then runs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
GIL_PYTHON ?= python3
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: test bench ft-python cargo-test loom test-ft test-gil clean

test: cargo-test loom test-ft test-gil

ft-python:
	@scripts/ft-python.sh

cargo-test:
	cargo test --no-default-features --quiet

# Model checking of the core's state machines with loom (the `loom_tests` modules in src/sync):
# every interleaving of each small model, up to 3 preemptions per execution. Its own target
# directory, since `--cfg loom` rebuilds everything.
loom:
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=3 \
	cargo test --no-default-features --release --quiet --lib loom_

# The free-threaded interpreter (once as usual, once with every thread-safe test run by 4
# threads at once, by pytest-run-parallel), then the machine's GIL python3 (3.11 here).
test-ft:
	py=$$(scripts/venv.sh .venv-ft "$$(scripts/ft-python.sh)"); \
	"$$py" -m pytest $(PYTEST_ARGS); \
	"$$py" -m pytest --parallel-threads=4 -q $(PYTEST_ARGS)

test-gil:
	py=$$(scripts/venv.sh .venv-gil "$(GIL_PYTHON)"); \
	"$$py" -m pytest $(PYTEST_ARGS)

# Every benchmark in benches/, stdlib and rthreading timed in the same run.
bench:
	py=$$(scripts/venv.sh .venv-ft "$$(scripts/ft-python.sh)"); \
	for b in benches/bench_*.py; do "$$py" "$$b" $(BENCH_ARGS); done

clean:
	rm -rf target .venv-ft .venv-gil dist
