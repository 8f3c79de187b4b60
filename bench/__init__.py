"""The measurement harness of the list endpoint: a minimal twin server and the runner that
compares ours with it (see README.md, "Performance"). Nothing here is imported by the app."""
