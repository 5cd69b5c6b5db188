"""`python -m server ...` is the `hackathon` command."""

from server.cli import main

main()
