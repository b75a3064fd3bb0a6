# The one entry point for tasks. `make test` and `make bench` are the README's two commands:
# each builds everything it needs on a fresh machine (the free-threaded interpreter is built
# once and cached in ~/.cache/rthreading, the wheel is built by maturin and pip-installed into
# a virtual environment per interpreter) and then runs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
GIL_PYTHON ?= python3
PYTEST_ARGS ?=
BENCH_ARGS ?=
# The GIL interpreter's run is for comparison: fewer repetitions keep `make bench` short.
BENCH_GIL_ARGS ?= --repeat 5
BENCH_OUT ?= bench-results

.PHONY: test lint format dev bench bench-docs ft-python cargo-test loom test-ft test-gil test-next clean

test: lint cargo-test loom test-ft test-gil

# The gate every change passes: rustfmt (rustfmt.toml), clippy with warnings as errors (and
# every unsafe block explained, Cargo.toml's [lints.clippy]), ruff (pyproject.toml). ruff runs
# from a small venv of its own, so linting needs no wheel build. `make format` fixes what the
# formatters can.
RUFF_SPEC ?= ruff>=0.17,<0.18
LINT_PATHS := python tests scripts benches

.venv-lint/bin/ruff:
	$(GIL_PYTHON) -m venv .venv-lint
	.venv-lint/bin/pip install -q "$(RUFF_SPEC)"

lint: .venv-lint/bin/ruff
	cargo fmt --check
	cargo clippy --all-targets --quiet -- -D warnings
	.venv-lint/bin/ruff check $(LINT_PATHS)
	.venv-lint/bin/ruff format --check $(LINT_PATHS)

format: .venv-lint/bin/ruff
	cargo fmt
	.venv-lint/bin/ruff check --fix $(LINT_PATHS)
	.venv-lint/bin/ruff format $(LINT_PATHS)

ft-python:
	@scripts/ft-python.sh

# The edit loop (see CONTRIBUTING.md): a debug build installed editable into .venv-dev on the
# free-threaded interpreter (DEV_PYTHON=python3 for the GIL one), seconds after an edit. Then
# run what you touched: .venv-dev/bin/python -m pytest tests/test_lock.py -q
DEV_VENV ?= .venv-dev
DEV_PYTHON ?=
dev:
	scripts/dev.sh "$(CURDIR)/$(DEV_VENV)" $(DEV_PYTHON)

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
# Then CPython's own threading, queue, logging, thread-pool and asyncio suites under the
# whole-program patch (python -m rthreading -m test, -j2), which must give the stdlib's result.
test-ft:
	py=$$(scripts/venv.sh .venv-ft "$$(scripts/ft-python.sh)"); \
	"$$py" -m pytest $(PYTEST_ARGS); \
	"$$py" -m pytest --parallel-threads=4 -q $(PYTEST_ARGS); \
	"$$py" scripts/cpython-suites.py

test-gil:
	py=$$(scripts/venv.sh .venv-gil "$(GIL_PYTHON)"); \
	"$$py" -m pytest $(PYTEST_ARGS)

# The same sources built against the newest PyO3 (pyo3-next/Cargo.toml and its own lockfile:
# PyO3 0.30, needed for CPython 3.15/3.15t, refuses 3.13t), proven on the GIL interpreter:
# clippy for it and, from PyO3 configuration files (no interpreter needed), for 3.14t, 3.15
# and 3.15t, which compiles the 3.13+-only code too; then the wheel into .venv-next and the
# whole suite. Not in `make test`: its first run downloads PyO3 0.30's crates.
NEXT_CHECK_PYTHONS := 3.14t 3.15 3.15t
test-next:
	PYO3_PYTHON=$(GIL_PYTHON) cargo clippy --manifest-path pyo3-next/Cargo.toml --locked --all-targets \
	  --quiet -- -D warnings
	for v in $(NEXT_CHECK_PYTHONS); do \
	  dir=pyo3-next/target/check-$$v; mkdir -p $$dir; \
	  flags=$$([[ $$v == *t ]] && echo Py_GIL_DISABLED || true); \
	  printf 'implementation=CPython\nversion=%s\nshared=true\nabi3=false\nbuild_flags=%s\npointer_width=64\n' \
	    "$${v%t}" "$$flags" > $$dir/pyo3-config.txt; \
	  echo "clippy for CPython $$v"; \
	  PYO3_CONFIG_FILE=$$PWD/$$dir/pyo3-config.txt CARGO_TARGET_DIR=$$dir \
	    cargo clippy --manifest-path pyo3-next/Cargo.toml --locked --quiet -- -D warnings; \
	done
	py=$$(RTHREADING_MANIFEST=pyo3-next/Cargo.toml scripts/venv.sh .venv-next "$(GIL_PYTHON)"); \
	"$$py" -m pytest $(PYTEST_ARGS)

# The benchmark suite (python -m rthreading.bench), stdlib and rthreading timed interleaved in
# the same run: on the free-threaded interpreter, then on the GIL one (3.11 here), each with
# the bench extra (pyperf, matplotlib; ft_utils as the peer where it builds) in its venv.
# Results: $(BENCH_OUT)/ft.json, gil.json (+ pyperf files beside them) and the chart
# $(BENCH_OUT)/benchmarks.png. `make bench BENCH_ARGS=--quick` for a short run.
bench:
	mkdir -p $(BENCH_OUT); \
	py=$$(scripts/venv.sh .venv-ft "$$(scripts/ft-python.sh)"); \
	scripts/bench-deps.sh "$$py"; \
	gpy=$$(scripts/venv.sh .venv-gil "$(GIL_PYTHON)"); \
	scripts/bench-deps.sh "$$gpy"; \
	"$$py" -m rthreading.bench $(BENCH_ARGS) --json $(BENCH_OUT)/ft.json; \
	"$$gpy" -m rthreading.bench $(BENCH_GIL_ARGS) $(BENCH_ARGS) --json $(BENCH_OUT)/gil.json; \
	"$$py" -m rthreading.bench --load $(BENCH_OUT)/ft.json --load $(BENCH_OUT)/gil.json \
	  --chart $(BENCH_OUT)/benchmarks.png

# The docs snapshot (docs/benchmarks.md + docs/benchmarks.png, and the README's table) from a
# full `make bench`: run it on an idle machine.
bench-docs: bench
	.venv-ft/bin/python -m rthreading.bench --load $(BENCH_OUT)/ft.json \
	  --load $(BENCH_OUT)/gil.json --markdown docs/benchmarks.md --chart docs/benchmarks.png \
	  --readme README.md

clean:
	rm -rf target pyo3-next/target .venv-ft .venv-gil .venv-next .venv-lint .venv-dev dist python/rthreading/_core.*.so
