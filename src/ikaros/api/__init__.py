"""Implementation of the public Python API (:mod:`ikaros`): thin over the code the CLI uses."""
