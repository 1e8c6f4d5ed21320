"""Issue 37's before and after: the explorer of one checkout (a git worktree of commit 001ce1b,
or this one) on this checkout's runs/compare, measured and photographed in Chromium at 1280×800
and 390×844. Prints the figures as JSON; the screenshots go to <out>/<label>_*.png.

    git worktree add /tmp/before 001ce1b
    python docs/measured/explorer_37/measure.py /tmp/before before /tmp/shots
    python docs/measured/explorer_37/measure.py . after /tmp/shots
"""

import json
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

checkout, label, out = Path(sys.argv[1]).resolve(), sys.argv[2], Path(sys.argv[3])
sys.path.insert(0, str(checkout))  # that checkout's explorer, page and server both
from tools import explore  # noqa: E402

explorer = explore.Explorer(Path("runs/compare"), Path("data/songci.txt"), threads=1)
server = explore.ExplorerServer(("127.0.0.1", 0), explorer)
threading.Thread(target=server.serve_forever, daemon=True).start()
out.mkdir(parents=True, exist_ok=True)
WIDTH = "document.documentElement.scrollWidth"  # over 390 on a phone: the page scrolls sideways
TAB_STOPS = "[...document.querySelectorAll('#view-compare *')].filter(e => e.tabIndex >= 0).length"
figures = {}

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.url)
    page.wait_for_selector("#compare-rows .version-row")
    characters = len(page.input_value("#text"))
    page.locator("#compare-rows .version-row").last.locator(".ch").nth(characters // 2).hover()
    page.wait_for_timeout(300)
    first_table = page.locator("#candidates table").first.bounding_box()
    figures["candidates_top_in_800px_window"] = round(first_table["y"])
    figures["tab_stops_side_by_side"] = page.evaluate(TAB_STOPS)
    page.screenshot(path=out / f"{label}_desk_point_last_row.png")
    page.click("#tab-write")
    page.select_option("#w-version", "v7")
    page.select_option("#w-tune", "浣溪沙")
    for knob, value in (("#w-temperature", "0.5"), ("#w-top-k", "5"), ("#w-top-p", "0.9")):
        page.fill(knob, value)
    page.click("#w-start")
    page.wait_for_selector("#w-step:not([disabled])")
    for _ in range(3):
        page.click("#w-step")
    page.screenshot(path=out / f"{label}_desk_write_step3.png")
    page.close()

    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(server.url)
    page.wait_for_selector("#compare-rows .version-row")
    figures["phone_width_side_by_side"] = page.evaluate(WIDTH)
    page.locator("#compare-rows .version-row").first.locator(".ch").nth(5).click()
    page.wait_for_timeout(300)
    page.screenshot(path=out / f"{label}_phone_tap.png")
    page.click("#tab-attention")
    page.wait_for_selector("#att-map svg")
    page.wait_for_timeout(300)
    figures["phone_width_attention"] = page.evaluate(WIDTH)
    page.screenshot(path=out / f"{label}_phone_attention.png")
    browser.close()

print(label, json.dumps(figures))
