"""The pieces of bgmix.parallel that need no cluster."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

import bgmix
import bgmix.parallel as bp
from bgmix._allocator import MALLOC_OPTIONS, applied, on_glibc
from bgmix.exceptions import ParameterError
from bgmix.parallel._manifest import identity, is_complete, remove_stale, write_manifest
from bgmix.parallel._segments import concat_videos


@pytest.mark.parametrize(
    ("begin", "end", "n", "warm"), [(0, 10, 3, 2), (5, 1000, 7, 100), (0, 3, 8, 0), (0, 1, 1, 9)]
)
def test_segments_tile_the_range_in_order(begin, end, n, warm) -> None:
    plan = bp.plan_segments(begin, end, n, warm)
    assert plan[0][1] == begin and plan[-1][2] == end
    assert all(a[2] == b[1] for a, b in itertools.pairwise(plan))
    assert all(s < e and w == max(begin, s - warm) for w, s, e in plan)
    assert len(plan) == min(n, end - begin)
    costs = [e - w for w, _, e in plan]  # frames each task decodes and models
    sizes = [e - s for _, s, e in plan]
    assert max(costs) - min(costs) <= 1 or max(sizes) - min(sizes) <= 1


def test_segments_of_equal_cost_with_a_longer_first() -> None:
    plan = bp.plan_segments(0, 20670, 2, 1000)
    assert plan == [(0, 0, 10835), (9835, 10835, 20670)]
    assert bp.plan_segments(100, 1000, 3, 0) == [(100, 100, 400), (400, 400, 700), (700, 700, 1000)]


def test_runner_costs_start_the_longest_units_first(client) -> None:
    import time

    def stamp(unit: dict) -> float:
        time.sleep(0.05)
        return time.time()

    with bp.Runner(client) as run:
        run.map(stamp, [{"i": 0}])  # both workers up
        done = run.map(stamp, [{"i": i} for i in range(8)], cost=[1, 2, 3, 4, 5, 6, 7, 8])
    # the two costliest ran in the first wave, the two cheapest in the last
    assert max(done[6:]) < min(done[:2])


def test_a_long_sequence_is_split_by_grid_point(client) -> None:
    from bgmix.parallel._api import _points_per_task

    with bp.Runner(client) as run:  # 2 worker threads: half a share is a quarter of the work
        # one sequence is 46 % of the work: one task per point, the others keep all three
        assert _points_per_task(3, [465, 161, 120, 40, 29], run) == [1, 3, 3, 3, 3]
        assert _points_per_task(3, [100] * 8, run) == [3] * 8  # even sequences: as before
        assert _points_per_task(1, [1000, 1], run) == [1, 1]  # never below one point
    with bp.Runner(None) as run:  # in this process: every point in one pass
        assert _points_per_task(3, [465, 161], run) == [3, 3]


def test_local_workers_are_pinned_one_per_cpu_tuned_and_without_the_profiler(monkeypatch) -> None:
    import os

    pytest.importorskip("distributed")
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)  # a Dask nanny sets it here
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs")

    with bp.Runner("local:2") as run:
        cpus = run.map(_cpus_of_every_thread, [{}] * 6)
        profiling = run.map(_profiling, [{}] * 2)
        trim = run.map(_malloc_trim, [{}] * 2)
        tuned = run.map(_allocator_settings, [{}] * 2)
    assert all(len(c) == 1 for c in cpus) and len(set(cpus)) == 2
    assert profiling == [False, False]
    assert trim == [None, None] and "MALLOC_TRIM_THRESHOLD_" not in os.environ
    if on_glibc():  # the workers have the bgmix script's allocator settings
        expected = {name: value for name, _, value in MALLOC_OPTIONS}
        assert tuned == [expected, expected]
    assert applied() == {}  # and this process, which bgmix does not own, has none


def _allocator_settings(unit: dict) -> dict:
    from bgmix._allocator import applied

    return applied()


def _malloc_trim(unit: dict) -> str | None:
    import os

    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def _profiling(unit: dict) -> bool:
    import dask

    return dask.config.get("distributed.worker.profile.enabled")


def _cpus_of_every_thread(unit: dict) -> tuple[int, ...]:
    import os
    import time

    time.sleep(0.1)
    tasks = os.listdir("/proc/self/task")
    return tuple(sorted(set().union(*(os.sched_getaffinity(int(t)) for t in tasks))))


def test_default_warmup_follows_history() -> None:
    assert bp.default_warmup("mog2", {"history": 123}) == 246
    assert bp.default_warmup("frame-difference") == 200


@pytest.mark.parametrize("spec", ["local:0", "locale", "", 3.5])
def test_bad_scheduler_specs(spec) -> None:
    with pytest.raises(ParameterError):
        bp.parse_scheduler(spec)


def test_missing_dask_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(bp.ExtraNotInstalledError, match=r"bgmix\[distributed\]"):
        with bp.Runner("local:1"):
            pass


def test_in_process_runner_needs_no_dask(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with bp.Runner(None) as run:
        assert run.map(dict, [{"a": 1}, {"a": 2}]) == [
            {"a": 1, "threads": None},
            {"a": 2, "threads": None},
        ]


def test_manifest_tracks_input_parameters_and_outputs(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("x")
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"1")
    record = {"input": identity(src), "task": {"p": 1}}
    write_manifest(out, record, ["a.png"])
    assert is_complete(out, record)
    assert not is_complete(out, {"input": identity(src), "task": {"p": 2}})
    src.write_text("xy")
    assert not is_complete(out, {"input": identity(src), "task": {"p": 1}})
    (out / "a.png").unlink()
    assert not is_complete(out, record)
    (tmp_path / ".out.abc.partial").mkdir()
    (tmp_path / ".other.abc.partial").mkdir()
    assert remove_stale(out) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.abc.partial", "in.txt", "out"]


def test_concat_videos_copies_every_frame_in_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    clips = [rng.integers(0, 255, (n, 32, 48, 3), dtype=np.uint8) for n in (7, 5, 9)]
    paths = []
    for i, clip in enumerate(clips):
        with bgmix.open_sink(tmp_path / f"{i}.mp4", fps=25, crf=0) as sink:
            for f in clip:
                sink.write(f)
        paths.append(tmp_path / f"{i}.mp4")
    concat_videos(paths, tmp_path / "all.mp4")
    joined = bgmix.read_frames(tmp_path / "all.mp4")
    parts = np.concatenate([bgmix.read_frames(p) for p in paths])
    np.testing.assert_array_equal(joined, parts)
    with bgmix.open_source(tmp_path / "all.mp4") as src:
        assert src.info.frame_count == 21 and src.info.fps == 25.0


@pytest.mark.parametrize("suffix", [".mov", ".mkv"])
def test_concat_videos_keeps_the_frame_numbers_of_mask_videos(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(1)
    numbers = [[0, 2, 4], [6, 8], [10, 12, 14]]
    masks = {n: rng.choice(np.array([0, 127, 255], np.uint8), (24, 40)) for n in range(16)}
    paths = []
    for i, part in enumerate(numbers):
        paths.append(tmp_path / f"{i}{suffix}")
        with bgmix.open_sink(paths[-1], fps=25) as sink:
            for n in part:
                sink.write(masks[n], number=n)
    concat_videos(paths, tmp_path / f"all{suffix}", shift=False)
    import av

    flat = [n for part in numbers for n in part]
    with av.open(str(tmp_path / f"all{suffix}")) as container:
        times = [float(f.time) for f in container.decode(video=0)]
    assert times == pytest.approx([n / 25 for n in flat])
    got = bgmix.read_frames(tmp_path / f"all{suffix}")
    np.testing.assert_array_equal(got, np.stack([masks[n] for n in flat]))
