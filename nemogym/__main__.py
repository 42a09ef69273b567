"""Allow `python -m nemogym`."""
from nemogym.cli import main

main()
