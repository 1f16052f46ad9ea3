"""The clockwork: the scheduler, its leader election, and the jobs it runs, one module per family."""
