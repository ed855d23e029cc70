"""`python -m recorder` runs the same command as the `recorder` console script."""

from recorder.cli import main

raise SystemExit(main())
