"""All Numba code of bgmix: pure functions over arrays, no validation.

Public wrappers elsewhere validate and allocate; the kernels here only compute.
Importing this package imports Numba, so only modules that run kernels import it.
"""
