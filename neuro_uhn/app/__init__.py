"""The application: the ``neuro-uhn`` command line, the demo, the benchmarks, the figure
runner and the plotting functions.

It imports the library (:mod:`neuro_uhn` and its subpackages); the library never imports it
(``tests/test_layout.py`` checks). Nothing here is needed to retrieve, simulate or sweep.
"""
