"""`python -m simulator` is the same as the `csim` command."""

from simulator.client.main import main

raise SystemExit(main())
