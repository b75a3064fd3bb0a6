"""``python -m rthreading (script.py | -m module | -c code) [args]``: run a whole program,
libraries included, on rthreading (see rthreading._cli, and ``python -m rthreading --help``)."""

if __name__ == "__main__":
    from rthreading._cli import main

    _status = main()
    if _status:
        raise SystemExit(_status)
