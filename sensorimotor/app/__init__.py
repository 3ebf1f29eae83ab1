"""The run pipeline: run directories, train / resume / evaluate / export for any registered agent, and
the Python API. The only package that imports agents, envs and hardware together; the CLI sits on it."""
