"""The `hotline` command: one module per command group."""
