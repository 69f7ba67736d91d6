"""A real ``distributed.LocalCluster`` (2 worker processes, 1 thread each) shared by the
module's tests, and small synthetic inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import bgmix
from bgmix.synthetic import generate, write_sequence


@pytest.fixture(scope="session")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=50,
    ) as c:
        yield c


@pytest.fixture
def client(cluster):
    import distributed

    with distributed.Client(cluster, set_as_default=False) as c:
        c.wait_for_workers(2, timeout=60)
        yield c


def write_video(path: Path, kind: str = "mixed", n: int = 240, seed: int = 0) -> Path:
    """A synthetic scene as an H.264 MP4 (96x72)."""
    frames, _ = generate(kind, width=96, height=72, n_frames=n, seed=seed).to_arrays()
    with bgmix.open_sink(path, fps=25) as sink:
        for f in frames:
            sink.write(f)
    return path


def write_scene(folder: Path, kind: str, n: int = 60, seed: int = 0) -> Path:
    """A synthetic CDnet-layout sequence (64x48)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    write_sequence(generate(kind, width=64, height=48, n_frames=n, seed=seed), folder)
    return folder


def read_masks(folder: Path) -> tuple[list[str], np.ndarray]:
    """The masks of a run: its ``masks/`` PNG folder, or else its ``masks.mov`` video
    (named as the PNGs would be, by frame number)."""
    if not folder.exists() and folder.with_suffix(".mov").exists():
        import bgmix

        with bgmix.open_source(folder.with_suffix(".mov")) as video:
            pairs = list(video.numbered())
        return [f"bin{n:06d}.png" for n, _ in pairs], np.stack([m for _, m in pairs])
    files = sorted(folder.iterdir())
    return [f.name for f in files], np.stack([np.asarray(Image.open(f)) for f in files])


def leftovers(root: Path) -> list[str]:
    """Temporary or partial files anywhere below ``root``."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if ".partial" in p.name or p.name.endswith(".old") or "bgmix-parts" in p.name
    )
