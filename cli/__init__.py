"""The ``huegis`` command: the outermost shell of the platform.

It may import every package (``geo``, ``layers``, ``tiles``, ``api``) and nothing imports it.
Commands parse options, call one library function and print; the work lives in the packages.
"""
