"""Code competitions: run a team's submit.zip on hidden test features in a bubblewrap sandbox.

Modules: `unpack` (safe zip extraction), `install` (a venv per submission on a base environment),
`run` (the sandbox and its limits), `cgroups`, `outcome` (Kaggle's outcome classes),
`pipeline` (all of it, as the server and `hackathon run-code` use it), `reference` (the bundled
task's reference submit.zip), `cli` (`hackathon run-code`). Importing this package is cheap: no
pandas, no Flask.
"""
