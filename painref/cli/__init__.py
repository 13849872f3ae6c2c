"""The command line: the Typer app (app), what each command does (commands, studying), and
the output contract (output), the only place that writes to stdout and stderr."""

from painref.cli.main import main

__all__ = ["main"]
