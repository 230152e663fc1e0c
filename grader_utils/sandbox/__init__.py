"""Everything that runs next to student code (bubblewrap, sandboxed kernels, the NumPy-only lock, the probe that
makes one call, the plain-data protocol), and nothing that judges: no module here imports the judging core."""
