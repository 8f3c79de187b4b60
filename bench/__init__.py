"""The measurement harness of the list endpoint: a minimal twin server and the runner that
compares ours with it (see README.md, "Performance"), and the data set they run on (seed.py).
The app imports only seed.py, from its seed_bench command."""
