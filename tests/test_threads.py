"""The one band runner and thread pool of bgmix._threads."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest

from bgmix import _threads
from bgmix._threads import band_edges, run_bands


def test_band_edges_cover_the_range_with_large_enough_bands():
    for n, threads, least in [(100, 3, 1), (100, 7, 8), (17, 4, 5), (5, 8, 1), (0, 2, 1)]:
        edges = band_edges(n, threads, min_items=least)
        assert edges[0] == 0 and edges[-1] == n
        sizes = np.diff(edges)
        assert len(sizes) <= max(1, threads)
        if len(sizes) > 1:
            assert sizes.min() >= least
            assert sizes.max() - sizes.min() <= 1


def test_run_bands_covers_every_item_once_on_several_threads():
    seen = np.zeros(100, int)
    names = set()

    def kernel(start, stop, out):
        out[start:stop] += 1
        names.add(threading.current_thread().name)
        time.sleep(0.002)  # long enough for the pool threads to take bands too

    for threads in (1, 2, 3, 7):
        seen[:] = 0
        run_bands(kernel, 100, threads, seen, min_items=8)
        assert (seen == 1).all()
    assert any(name.startswith("bgmix-band") for name in names)
    calls = []
    run_bands(lambda a, b: calls.append((a, b)), 60, 2, min_items=40)
    assert calls == [(0, 60)]  # too small to be worth a second thread


def test_run_bands_hands_the_next_band_to_whichever_thread_is_free():
    # The calling thread is slowed down (as by another stage of a pipeline): the pool
    # thread takes every band after the first instead of waiting for it.
    caller = threading.current_thread().name
    taken: dict[str, list[tuple[int, int]]] = {}
    first_done = threading.Event()

    def kernel(start, stop):
        name = threading.current_thread().name
        taken.setdefault(name, []).append((start, stop))
        if name == caller:
            first_done.wait(timeout=10)  # released once the other thread is done
        elif stop == 800:
            first_done.set()

    run_bands(kernel, 800, 2, min_items=10)
    bands = sorted(b for calls in taken.values() for b in calls)
    assert len(bands) == 2 * _threads.BANDS_PER_THREAD  # long enough: split further
    assert bands[0][0] == 0 and bands[-1][1] == 800
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bands))
    assert len(taken[caller]) == 1  # the slow thread took one band only


def test_run_bands_keeps_one_band_per_thread_on_short_ranges():
    calls = []
    run_bands(lambda a, b: calls.append((a, b)), 100, 2, min_items=10)
    assert sorted(calls) == [(0, 50), (50, 100)]


def test_run_bands_raises_a_band_error():
    def failing(start, stop):
        if start > 0:
            raise RuntimeError("band failed")

    with pytest.raises(RuntimeError, match="band failed"):
        run_bands(failing, 64, 4)


def test_nested_run_bands_runs_inline_on_pool_threads():
    inner = []

    def outer(start, stop):
        run_bands(lambda a, b: inner.append((start, a, b)), 10, 4)

    run_bands(outer, 2, 2)
    assert sorted(c for c in inner if c[0] == 1) == [(1, 0, 10)]  # pool thread: no split
    assert len([c for c in inner if c[0] == 0]) > 1  # the calling thread splits


# Python >= 3.12 warns that forking a multi-threaded process may deadlock: that is
# exactly the situation this test checks bgmix handles.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_the_pool_works_in_a_forked_child():
    import multiprocessing as mp

    out = np.zeros(64, int)
    run_bands(_fill, 64, 2, out)  # the parent's pool exists now
    assert _threads._pool is not None
    with mp.get_context("fork").Pool(1) as pool:
        child = pool.apply_async(_child, ()).get(timeout=60)
    assert child == (64, 2)


def _fill(start, stop, out):
    out[start:stop] += 1


def _child():
    out = np.zeros(64, int)
    names = set()

    def kernel(start, stop):
        _fill(start, stop, out)
        names.add(threading.current_thread().name)
        time.sleep(0.01)  # long enough for the pool thread to take bands too

    run_bands(kernel, 64, 2)
    return int(out.sum()), len(names)
