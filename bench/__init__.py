"""The benchmark: a synthetic corpus through the real loader, the real server under wrk, and in the same
run the ceiling (precomputed bytes from a bare Starlette app) and Datasette on the same database."""
