"""`python -m recorder` runs the same command as the `recorder` console script."""

from recorder.cli import main

# Guarded: body-parsing worker processes are spawned, and they import `__main__`.
if __name__ == "__main__":
    raise SystemExit(main())
