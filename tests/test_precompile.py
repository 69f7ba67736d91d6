"""``python -m bgmix.precompile``: afterwards a fresh process compiles no Numba kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import bgmix
import bgmix.precompile as precompile_module
from bgmix.precompile import precompile_steps

# Runs `bgmix subtract` in this (fresh) process, then counts the compilations of every
# Numba dispatcher of bgmix: a dispatcher records a cache miss for every signature it
# had to compile (cached kernels and uncached helpers alike) and a hit for every one
# loaded from the on-disk cache.
_COUNT_COMPILATIONS = textwrap.dedent(
    """
    import json, sys
    from numba.core.registry import CPUDispatcher
    from bgmix._cli import cli
    cli.main(args=sys.argv[1:], prog_name="bgmix", standalone_mode=False)
    hits, misses = 0, {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("bgmix"):
            continue
        for attr, value in vars(module).items():
            if isinstance(value, CPUDispatcher):
                hits += sum(value.stats.cache_hits.values())
                n = sum(value.stats.cache_misses.values())
                if n:
                    misses[f"{name}.{attr}"] = n
    print(json.dumps({"hits": hits, "misses": misses}))
    """
)


def _subtract_in_fresh_process(video: Path, out: Path, cache: Path) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    argv = ["subtract", str(video), "-o", str(out), "-m", "mog2", "--no-video", "-q"]
    done = subprocess.run(
        [sys.executable, "-c", _COUNT_COMPILATIONS, *argv],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _precompile_subtract_mog2_in_fresh_process(cache: Path) -> None:
    """The module's own steps for ``subtract -m mog2`` (the whole list takes minutes)."""
    code = textwrap.dedent(
        """
        import tempfile
        from pathlib import Path
        from bgmix.precompile import _run, precompile_steps
        with tempfile.TemporaryDirectory() as tmp:
            for label, argv in precompile_steps(Path(tmp)):
                if label == "synthetic sequence" or label.startswith("subtract -m mog2 "):
                    _run(argv)
        """
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


@pytest.fixture
def tiny_video(tmp_path: Path) -> Path:
    """A 12-frame 40x32 colour MP4 of a bright square moving over noise."""
    rng = np.random.default_rng(0)
    path = tmp_path / "tiny.mp4"
    with bgmix.open_sink(path, fps=10) as sink:
        for i in range(12):
            frame = rng.integers(90, 110, (32, 40, 3), dtype=np.uint8)
            frame[8:16, 2 + 3 * i : 10 + 3 * i] = 240
            sink.write(frame)
    return path


@pytest.mark.slow
def test_after_precompile_a_fresh_subtract_compiles_nothing(tmp_path, tiny_video):
    # without precompile the check sees the compilations (it can fail) ...
    cold = _subtract_in_fresh_process(tiny_video, tmp_path / "cold", tmp_path / "empty-cache")
    assert cold["misses"], cold
    # ... after it, a fresh process loads every kernel it runs from the cache
    cache = tmp_path / "cache"
    _precompile_subtract_mog2_in_fresh_process(cache)
    warm = _subtract_in_fresh_process(tiny_video, tmp_path / "warm", cache)
    assert warm["misses"] == {}, warm
    assert warm["hits"] > 0, warm


def test_steps_cover_every_method_with_numba_kernels_in_both_colour_modes(tmp_path):
    labels = [label for label, _argv in precompile_steps(tmp_path)]
    for name in bgmix.available_methods():
        if name.startswith("opencv-"):
            assert not any(f"-m {name} " in label for label in labels)
            continue
        assert f"subtract -m {name} --colour" in labels
        assert f"subtract -m {name} --grey" in labels
    for cov in ("full", "tied", "diag", "spherical"):
        for spatial in (0, 1):
            assert f"segment -m gmm --covariance-type {cov} --spatial-weight {spatial}" in labels
    for command in ("background --colour", "lowrank -m rpca", "events", "evaluate"):
        assert command in labels


def test_a_failing_step_is_a_one_line_error_with_exit_1(tmp_path, monkeypatch, capsys):
    missing = tmp_path / "missing.mp4"

    def steps(workdir):
        yield "subtract a missing video", ["subtract", str(missing), "-o", str(workdir / "o")]

    monkeypatch.setattr(precompile_module, "precompile_steps", steps)
    with pytest.raises(SystemExit) as exit_info:
        precompile_module.main()
    assert exit_info.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    # the command's own one-line error, then the step that failed
    assert len(lines) == 2, lines
    assert "missing.mp4" in lines[0] and "does not exist" in lines[0]
    assert lines[1].startswith("bgmix precompile:") and "subtract" in lines[1]
