"""The C extension; everything else about the distribution is in pyproject.toml."""

import sys

from setuptools import Extension, setup

flags = [] if sys.platform == "win32" else ["-O2", "-Werror=implicit-function-declaration"]
setup(
    ext_modules=[
        Extension("floe_speedups._avro", ["src/floe_speedups/_avro.c"], extra_compile_args=flags)
    ]
)
