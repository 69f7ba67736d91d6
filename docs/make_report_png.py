"""Make ``docs/report.png``: a screenshot of the HTML report of a synthetic evaluation
(three synthetic scenes, three methods), taken by Debian's headless Chromium.

Run from the repository root (needs /usr/bin/chromium and /usr/bin/chromedriver)::

    .venv/bin/python docs/make_report_png.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def main() -> None:
    from tests.viz.test_report_browser import make_driver

    from bgmix.synthetic import generate, write_sequence
    from bgmix.viz import evaluate_report

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        seqs = []
        for kind in ("shadows", "dynamic", "baseline"):
            folder = root / "synthetic" / kind
            folder.parent.mkdir(exist_ok=True)
            write_sequence(generate(kind, n_frames=200, seed=0), folder)
            seqs.append(folder)
        out = root / "report"
        evaluate_report(
            seqs, ["mog2", "opencv-mog2", "running-mean"], out_dir=out, title="bgmix report"
        )
        driver = make_driver(root / "profile", width=1280, height=1150)
        try:
            driver.get((out / "index.html").as_uri())
            driver.execute_script(
                "document.querySelectorAll('img').forEach(i => i.loading = 'eager');"
                "window.scrollTo(0, document.querySelector('#sequences').offsetTop - 10);"
            )
            time.sleep(1)
            driver.execute_script("document.querySelector('.play-all').click()")
            time.sleep(4.5)  # the cars are in the scene
            driver.execute_script(
                "document.querySelector('.play-all').click();"  # pause
                "document.querySelectorAll('video').forEach(v => v.controls = false);"
            )
            time.sleep(0.5)
            driver.save_screenshot(str(ROOT / "docs" / "report.png"))
        finally:
            driver.quit()
    print(f"wrote {ROOT / 'docs' / 'report.png'}")


if __name__ == "__main__":
    main()
