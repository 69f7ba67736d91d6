"""The HTML report in a real browser: Debian's headless Chromium driven by Selenium.

Nothing downloads a browser: Selenium is given /usr/bin/chromium and
/usr/bin/chromedriver (``.ci/run`` installs them when missing). The tests assert on
the DOM, not on pixels, and save a screenshot to ``out/test-artifacts/report.png``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "out" / "test-artifacts"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, "
    "/usr/bin/chromedriver): apt-get install chromium chromium-driver",
)


def make_driver(tmp_dir: Path, width: int = 1400, height: int = 1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        f"--window-size={width},{height}",
        f"--user-data-dir={tmp_dir}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="module")
def browser(full_report, tmp_path_factory):
    driver = make_driver(tmp_path_factory.mktemp("chromium-profile"))
    driver.set_page_load_timeout(60)
    driver.get((full_report / "index.html").as_uri())
    yield driver
    driver.quit()


def requested_urls(driver) -> list[tuple[str, str]]:
    """Every (URL, document URL) requested, from Chromium's performance log (DevTools
    ``Network.requestWillBeSent``)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            urls.append((params["request"]["url"], params.get("documentURL", "")))
    return urls


def test_loads_without_console_errors_or_outside_requests(browser, full_report):
    # touch every lazy picture and every video so that all requests happen
    browser.execute_script(
        "document.querySelectorAll('img').forEach(i => i.loading = 'eager');"
        "window.scrollTo(0, document.body.scrollHeight);"
    )
    _wait(browser, "return Array.from(document.images).every(i => i.complete)")
    # posters are set when their video comes near the screen
    # (one at a time: a video scrolled past before the next frame is never seen near it)
    for video in browser.find_elements("tag name", "video"):
        browser.execute_script("arguments[0].scrollIntoView()", video)
        _wait(browser, "return arguments[0].poster", 20.0, video)
    _wait(browser, "return Array.from(document.querySelectorAll('video')).every(v => v.poster)")
    time.sleep(0.5)
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    requests = requested_urls(browser)
    page = (full_report / "index.html").as_uri()
    # the browser's own pages (chrome://) are not network requests; nothing may go out
    assert all(urlparse(u).scheme in ("file", "data", "chrome") for u, _ in requests), requests
    urls = [u for u, doc in requests if doc == page]
    assert page in urls and len(urls) > 10, requests
    root = full_report.resolve()
    for url in urls:
        parsed = urlparse(url)
        assert parsed.scheme in ("file", "data"), f"outgoing request: {url}"
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path)).resolve()
            assert path.is_relative_to(root), f"request outside the report folder: {url}"
            assert path.is_file(), f"failed request (no such file): {url}"
    broken = browser.execute_script(
        "return Array.from(document.images).filter(i => !i.naturalWidth).map(i => i.src)"
    )
    assert broken == []


def test_table_numbers_equal_the_json(browser, full_report):
    data = json.loads((full_report / "results.json").read_text())
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('#results-table tbody tr')).map(r => "
        "[r.dataset.sequence, r.dataset.method, "
        "Object.fromEntries(Array.from(r.querySelectorAll('td[data-key]')).map("
        "c => [c.dataset.key, c.textContent.trim()]))])"
    )
    assert len(rows) == len(data["results"]) == 4
    shown = {(s, m): cells for s, m, cells in rows}
    for r in data["results"]:
        cells = shown[(r["sequence"], r["method"])]
        assert cells["f_measure"] == f"{r['metrics']['f_measure']:.3f}"
        assert cells["recall"] == f"{r['metrics']['recall']:.3f}"
        assert cells["precision"] == f"{r['metrics']['precision']:.3f}"
        assert cells["pwc"] == f"{r['metrics']['pwc']:.2f}"
        assert cells["fps"] == f"{r['fps']:.0f}"
    summary = browser.execute_script(
        "return Object.fromEntries(Array.from(document.querySelectorAll("
        "'#summary-table tbody tr')).map(r => [r.dataset.method, "
        "r.querySelector('td[data-key=f_measure]').textContent.trim()]))"
    )
    for method, s in data["summary"].items():
        assert summary[method] == f"{s['sequence_mean']['f_measure']:.3f}"
    # on each sequence exactly one method is marked best on F (no ties here)
    for seq in {r["sequence"] for r in data["results"]}:
        values = [r["metrics"]["f_measure"] for r in data["results"] if r["sequence"] == seq]
        marked = browser.execute_script(
            "return Array.from(document.querySelectorAll('#results-table tbody tr')).filter("
            "r => r.dataset.sequence === arguments[0] && "
            "r.querySelector('td[data-key=f_measure]').classList.contains('best'))"
            ".map(r => r.dataset.method)",
            seq,
        )
        best = max(
            (r for r in data["results"] if r["sequence"] == seq),
            key=lambda r: r["metrics"]["f_measure"],
        )
        assert len(set(values)) == 2 and marked == [best["method"]]


def test_sorting(browser):
    def column(key):
        return browser.execute_script(
            "return Array.from(document.querySelectorAll("
            "'#results-table tbody td[data-key=' + arguments[0] + ']')).map("
            "c => parseFloat(c.dataset.value))",
            key,
        )

    head = browser.find_element("xpath", "//table[@id='results-table']//th[.='F-measure']")
    head.click()
    up = column("f_measure")
    assert up == sorted(up) and head.get_attribute("aria-sort") == "ascending"
    head.click()
    down = column("f_measure")
    assert down == sorted(down, reverse=True) and head.get_attribute("aria-sort") == "descending"
    assert up != down
    method_head = browser.find_element("xpath", "//table[@id='results-table']//th[.='method']")
    method_head.click()
    methods = browser.execute_script(
        "return Array.from(document.querySelectorAll('#results-table tbody tr')).map("
        "r => r.dataset.method)"
    )
    assert methods == sorted(methods)


def _wait(driver, script, timeout=20.0, *args):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


def test_every_video_loads_and_plays(browser):
    videos = browser.find_elements("tag name", "video")
    assert len(videos) == 5  # 2 sequences x 2 methods, and the subtract run
    assert all(v.get_attribute("preload") == "none" for v in videos)
    for i in range(len(videos)):
        browser.execute_script(
            "const v = document.querySelectorAll('video')[arguments[0]];"
            "v.currentTime = 0; v.play();",
            i,
        )
        _wait(browser, "return document.querySelectorAll('video')[arguments[0]].readyState >= 2",
              20.0, i)  # fmt: skip
        start = browser.execute_script(
            "return document.querySelectorAll('video')[arguments[0]].currentTime", i
        )
        _wait(
            browser,
            "return document.querySelectorAll('video')[arguments[0]].currentTime > arguments[1]",
            20.0,
            i,
            start,
        )
        browser.execute_script("document.querySelectorAll('video')[arguments[0]].pause()", i)
        error = browser.execute_script(
            "const v = document.querySelectorAll('video')[arguments[0]]; "
            "return v.error && v.error.message",
            i,
        )
        assert error is None


def test_sync_control_plays_all_methods_in_step(browser):
    group = browser.find_element("css selector", ".sync-group")
    # out of step before: the second video 2 s ahead of the first
    browser.execute_script(
        "const v = arguments[0].querySelectorAll('video');"
        "v.forEach(x => x.pause()); v[0].currentTime = 0; v[1].currentTime = 2.0;",
        group,
    )
    group.find_element("css selector", ".play-all").click()
    _wait(
        browser,
        "return Array.from(arguments[0].querySelectorAll('video')).every("
        "v => !v.paused && v.currentTime > 0.3)",
        20.0,
        group,
    )
    times = browser.execute_script(
        "return Array.from(arguments[0].querySelectorAll('video')).map(v => v.currentTime)",
        group,
    )
    assert len(times) == 2
    assert max(times) - min(times) < 0.4  # in step (they started 2 s apart)
    assert max(times) < 2.0  # both follow the first video, from its time
    group.find_element("css selector", ".play-all").click()  # pauses them all
    assert browser.execute_script(
        "return Array.from(arguments[0].querySelectorAll('video')).every(v => v.paused)", group
    )


def test_accessibility_basics(browser):
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.alt])"
    )
    assert images and all(alt and alt.strip() for _, alt in images), images
    headings = browser.execute_script(
        "return Array.from(document.querySelectorAll('h1, h2, h3')).map("
        "h => [h.tagName, h.textContent.trim()])"
    )
    tags = [t for t, _ in headings]
    assert tags.count("H1") == 1 and "H2" in tags and "H3" in tags
    texts = [t for _, t in headings]
    assert "Summary" in texts and "Accuracy against speed" in texts and "Events" in texts
    assert browser.execute_script("return document.documentElement.lang") == "en"


def test_events_timeline_links_thumbnails_to_clips(browser, full_report):
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('#events .event-list li > a')).map("
        "a => [a.getAttribute('href'), a.querySelector('img').alt])"
    )
    assert [href.rsplit("/", 1)[1] for href, _ in links] == [f"event_{i:03d}.mp4" for i in range(3)]
    for href, alt in links:
        assert (full_report / href).is_file()
        assert alt.startswith("Event ")


def test_screenshot(browser, full_report):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    shot = ARTIFACTS / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    shutil.copyfile(full_report / "index.html", ARTIFACTS / "report-index.html")
