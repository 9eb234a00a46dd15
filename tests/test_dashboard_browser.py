"""The dashboard in a real browser: headless Chromium (driven by selenium through Debian's chromedriver) loads the
page with no console error, every link in it resolves to a file, and a failed gate is shown as a failure.

Screenshots land in reports/ (git-ignored) for a reader. Where chromium is not installed the tests skip (.ci/run
installs it); where it is installed but cannot start, they fail.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tasks.report import model
from tasks.report.dashboard import render_html
from test_dashboard import COMPONENTS, write_reports

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason='chromium is not installed (.ci/run installs it)')


@pytest.fixture(scope='module')
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    driver_path = shutil.which('chromedriver')
    assert driver_path, 'chromium is installed but chromedriver is not: apt-get install chromium-driver'
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                '--window-size=1200,900', '--allow-file-access-from-files'):
        options.add_argument(arg)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)   # a failure to start fails the test
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def _load(driver, page: Path) -> list[dict]:
    """Open `page`; the console's warnings and errors while it loaded."""
    driver.get_log('browser')   # drop what an earlier page left
    driver.get(page.as_uri())
    return [e for e in driver.get_log('browser') if e['level'] in ('SEVERE', 'WARNING')]


def _broken_links(driver, page: Path) -> list[str]:
    broken = []
    for href in driver.execute_script('return Array.from(document.links, a => a.href)'):
        url = urlparse(href)
        if url.scheme != 'file':
            broken.append(f'{href}: not a file link')
        elif url.path == page.as_posix() and url.fragment:
            if not driver.execute_script('return document.getElementById(arguments[0]) !== null', url.fragment):
                broken.append(f'{href}: no element #{url.fragment}')
        elif not Path(unquote(url.path)).is_file():
            broken.append(f'{href}: no such file')
    return broken


def _screenshot(driver, name: str) -> Path:
    """The whole page as a PNG under reports/, for a reader of the test run."""
    height = driver.execute_script('return document.documentElement.scrollHeight')
    driver.set_window_size(1200, min(height + 100, 6000))
    out = ROOT / 'reports' / name
    out.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(out)), f'{out}: chromium wrote no screenshot'
    driver.set_window_size(1200, 900)
    return out


def _render(root: Path, failing: str | None = None) -> Path:
    reports = write_reports(root, failing)
    page = reports / 'index.html'
    page.write_text(render_html(model.view_model(reports, root, COMPONENTS, '2026-12-04T19:06:00Z')),
                    encoding='utf-8')
    return page


def _text(driver, selector: str) -> str:
    return driver.execute_script('return document.querySelector(arguments[0]).innerText', selector)


def test_a_passed_publish_renders_every_section_without_errors(browser, tmp_path):
    page = _render(tmp_path)
    assert _load(browser, page) == []
    assert browser.title == 'Embeddenator release dashboard: pass'
    for section in ('gates', 'tests', 'audit', 'bench', 'graph', 'publish', 'packages', 'artefacts'):
        assert browser.execute_script('return document.getElementById(arguments[0]) !== null', section), section
    assert browser.execute_script('return document.querySelectorAll("#graph + svg g.package").length') == 4
    bars = browser.execute_script('return document.querySelectorAll("rect[class^=step]").length')
    assert bars == 5 * len(COMPONENTS)   # build, upload, index visible, verified, tagged for each package
    assert _broken_links(browser, page) == []
    assert _screenshot(browser, 'dashboard-fixture.png').stat().st_size > 10_000


def test_a_failed_gate_is_shown_as_plainly_as_a_pass(browser, tmp_path):
    page = _render(tmp_path, failing='bench')
    assert _load(browser, page) == []
    assert 'a gate failed: bench' in _text(browser, '#verdict')
    row = _text(browser, 'tr[data-gate="bench"]')
    assert 'fail' in row and '1 critical' in row
    color = browser.execute_script(
        'return getComputedStyle(document.querySelector(\'tr[data-gate="bench"] .badge\')).color')
    assert color != browser.execute_script(
        'return getComputedStyle(document.querySelector(\'tr[data-gate="tests"] .badge\')).color')
    assert browser.execute_script('return document.querySelectorAll("tr.record[data-status=\'not reached\']")'
                                  '.length') == len(COMPONENTS)
    assert _broken_links(browser, page) == []
    _screenshot(browser, 'dashboard-failed.png')


def test_the_workspace_page_as_publish_renders_it(browser):
    """`python -m tasks.report` is what publish runs when it ends: the page of this work tree's reports."""
    done = subprocess.run([sys.executable, '-m', 'tasks.report'], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    page = ROOT / 'reports' / 'index.html'
    assert str(page) in done.stderr
    assert _load(browser, page) == []
    assert _broken_links(browser, page) == []
    _screenshot(browser, 'dashboard.png')
