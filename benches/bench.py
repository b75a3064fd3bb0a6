#!/usr/bin/env python3
"""The benchmark suite lives in the package (rthreading.bench) so that it ships in the wheel;
this launcher runs it from a checkout: python benches/bench.py [--quick] [-k ...] [--json ...]
(the same as `python -m rthreading.bench`, against the installed rthreading)."""

import sys

try:
    from rthreading.bench import main
except ImportError as exc:
    sys.exit(
        f"cannot import rthreading.bench ({exc}); build and install it first: "
        'scripts/venv.sh .venv-ft "$(scripts/ft-python.sh)"'
    )

sys.exit(main())
