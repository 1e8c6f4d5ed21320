"""tools/explore.py: its refusals over HTTP, and its three views in a real browser (Chromium, driven
by Playwright), each number on the page checked against the models computed here by hand.

The browser tests skip off CI when Playwright or Chromium is missing (reason given); .ci/run
installs both and sets BABYGPT_REQUIRE_BROWSER=1, so in CI a missing browser fails.

Screenshots for the README, from a full comparison run (the same tests, same checks):
    EXPLORE_RUNS=runs/compare EXPLORE_SCREENSHOTS=docs python -m pytest tests/test_explore.py -k browser
"""

import contextlib
import http.client
import json
import math
import os
import re
import shutil
import socket
import threading
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

import plumbing
from conftest import ROOT, SMALL_CORPUS, tiny_config
from tools import checkpoints, corpus, explore, poetry_form, sampling, scoring, write_poem
from tools.versions import BY_VERSION

CORPUS = ROOT / "data" / "songci.txt"  # the tunes' templates need the full corpus
TEXT = "浣溪沙\n一曲新词酒一杯。\n去年天气旧亭台。\n夕阳西下几时回。"  # scored in the side-by-side test
SCREENSHOTS = os.environ.get("EXPLORE_SCREENSHOTS")


@pytest.fixture(scope="module")
def runs(request):
    """The checkpoints: the tests' tiny comparison, or EXPLORE_RUNS (a full run, for screenshots)."""
    if os.environ.get("EXPLORE_RUNS"):
        return Path(os.environ["EXPLORE_RUNS"])
    return request.getfixturevalue("tiny_comparison")[2]


@contextlib.contextmanager
def serving(explorer, host="127.0.0.1"):
    """An explorer server on a free port of host, from a thread of this process."""
    running = explore.ExplorerServer((host, 0), explorer)
    threading.Thread(target=running.serve_forever, daemon=True).start()
    try:
        yield running
    finally:
        running.shutdown()
        running.server_close()


@pytest.fixture(scope="module")
def server(runs):
    """The explorer of the tests' checkpoints."""
    with serving(explore.Explorer(runs, CORPUS)) as running:
        yield running


def ask(server, method, path, body=None, headers=None):
    """(status, JSON answer) of one request; headers may name another Host."""
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=60)
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    return response.status, json.loads(answer)


# ---- Refusals: each a JSON error with a 4xx status, and the server serves on

JSON = {"Content-Type": "application/json"}


@pytest.mark.slow
@pytest.mark.parametrize("method, path, body, headers, status, message", [
    ("POST", "/api/score", {"text": "春" * 2001}, None, 413, "at most 2,000"),
    ("POST", "/api/score", {"text": ""}, None, 400, "non-empty string"),
    ("POST", "/api/attention", {"text": "春风", "version": "v99"}, None, 404, "no version 'v99'"),
    ("POST", "/api/attention", {"text": "春风", "version": "v1"}, None, 400, "v1 has no attention"),
    ("POST", "/api/attention", {"text": "春风", "version": "v4", "head": 99}, None, 400, "head must be"),
    ("POST", "/api/score", b"{text: ", JSON, 400, "not JSON"),
    ("POST", "/api/score", b"[1, 2]", JSON, 400, "a JSON object"),
    ("POST", "/api/score", b'{"text": "x"}', {"Content-Type": "text/plain"}, 415, "Content-Type"),
    ("POST", "/api/score", b"x" * 70_000, JSON, 413, "at most 65,536"),
    ("POST", "/api/write", {"version": "v7", "prompt": "春", "temperature": "hot"}, None, 400, "temperature"),
    ("POST", "/api/write", {"version": "v7", "prompt": "春", "top_p": 2}, None, 400, "top_p must be"),
    ("POST", "/api/write", {"version": "v7", "prompt": "春", "length": 10_000}, None, 400, "length must be"),
    ("POST", "/api/write", {"version": "v7", "tune": "无此调"}, None, 400, "no template for 无此调"),
    ("POST", "/api/write", {"version": "v7", "tune": "浣溪沙", "acrostic": "春，"}, None, 400, "characters only"),
    ("POST", "/api/write", {"version": "v7", "prompt": "\U0001F600"}, None, 400, "vocabulary"),
    ("POST", "/api/nothing", {}, None, 404, "no API"),
    ("PUT", "/api/score", {"text": "春风"}, None, 405, "only GET and POST"),
    ("GET", "/../babygpt_v1_bigram.py", None, None, 404, "no page"),
    ("GET", "/%2e%2e/README.md", None, None, 404, "no page"),
    ("GET", "/explore.js/../../../etc/passwd", None, None, 404, "no page"),
    ("GET", "/api/sample?index=-1", None, None, 400, "whole number"),
    ("GET", "/", None, {"Host": "attacker.example:80"}, 403, "not this server's address"),
    ("POST", "/api/score", {"text": "春风"}, {"Host": "attacker.example"}, 403, "not this server's address"),
    # Issue 36: odd JSON and odd numbers, each a JSON 4xx (a 500 or a closed connection before).
    ("POST", "/api/score", b'{"text": "\\ud800"}', JSON, 400, "half a surrogate pair"),
    ("POST", "/api/write", b'{"version": "v7", "prompt": "x", "temperature": NaN}', JSON, 400, "NaN is not"),
    ("POST", "/api/score", b"[" * 20_000 + b"]" * 20_000, JSON, 400, "not JSON"),
    ("POST", "/api/write", b'{"version": "v7", "prompt": "x", "seed": 1' + b"0" * 5000 + b"}", JSON, 400, "not JSON"),
    ("POST", "/api/score", b'{"text": "x"}', {**JSON, "Content-Length": "\xb2"}, 411, "Content-Length"),
    ("GET", "/api/sample?index=%C2%B2", None, None, 400, "whole number"),
])
def test_a_bad_request_gets_its_4xx_and_the_server_serves_on(server, method, path, body, headers, status,
                                                              message):
    got, answer = ask(server, method, path, body, headers)
    assert (got, message in answer["error"]) == (status, True), answer
    assert ask(server, "GET", "/api/info")[0] == 200


@pytest.mark.slow
def test_a_client_that_sends_half_a_request_is_closed_and_others_are_served(server, monkeypatch):
    assert explore.ExplorerHandler.timeout == explore.REQUEST_TIMEOUT == 10  # None: wait forever
    monkeypatch.setattr(explore.ExplorerHandler, "timeout", 0.5)  # shortened for the test
    silent = socket.create_connection(server.server_address[:2])
    silent.sendall(b"POST /api/score HTTP/1.1\r\nHost: localhost\r\n")  # and then nothing
    assert ask(server, "GET", "/api/info")[0] == 200  # served meanwhile
    silent.settimeout(10)
    assert silent.recv(1000) == b""  # closed by the server, well before 10 s
    silent.close()


@pytest.mark.slow
def test_a_full_queue_is_a_503_and_a_gone_clients_work_is_dropped(server, monkeypatch):
    explorer = server.explorer
    monkeypatch.setattr(explorer, "places", threading.BoundedSemaphore(2))
    explorer.places.acquire()  # one request already waiting
    scored = []
    monkeypatch.setattr(explorer, "score_one", lambda version, text: scored.append(version) or {})
    busy = threading.Event()
    explorer.torch_thread.submit(busy.wait, 30)  # the models are busy
    try:
        # The last place: taken by a client that leaves before the models are free.
        leaving = socket.create_connection(server.server_address[:2])
        body = json.dumps({"text": "春风"}).encode()
        leaving.sendall(b"POST /api/score HTTP/1.0\r\nHost: localhost:%d\r\nContent-Type: "
                        b"application/json\r\nContent-Length: %d\r\n\r\n%s"
                        % (server.server_address[1], len(body), body))
        for _ in range(100):  # until its request waits
            if explorer.places._value == 0:
                break
            threading.Event().wait(0.05)
        status, answer = ask(server, "POST", "/api/score", {"text": "春风"})
        assert status == 503 and "busy" in answer["error"]
        leaving.close()
        threading.Event().wait(1)  # the server sees it gone (it looks four times a second)
    finally:
        busy.set()
    for _ in range(100):
        if explorer.places._value == 1:
            break
        threading.Event().wait(0.05)
    assert explorer.places._value == 1  # its place given back
    assert scored == []  # and nothing computed for it
    explorer.places.release()


@pytest.mark.slow
def test_an_explicit_host_answers_any_ip_address_of_the_machine_but_no_other_name(server):
    with serving(server.explorer, host="0.0.0.0") as anywhere:
        port = anywhere.server_address[1]
        for host in (f"127.0.0.1:{port}", f"192.0.2.7:{port}", f"[::1]:{port}"):
            assert ask(anywhere, "GET", "/api/info", headers={"Host": host})[0] == 200, host
        for host in (f"attacker.example:{port}", "192.0.2.7:1"):
            assert ask(anywhere, "GET", "/api/info", headers={"Host": host})[0] == 403, host
    # The default, 127.0.0.1, answers its own names only.
    assert ask(server, "GET", "/api/info", headers={"Host": f"192.0.2.7:{server.server_address[1]}"})[0] == 403


@pytest.mark.slow
def test_a_newcomer_sees_what_is_missing_and_how_to_train_it(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "SCRIPT_RUNS", tmp_path)  # not the repository's own runs/
    info = explore.Explorer(tmp_path / "none", SMALL_CORPUS).info()
    assert info["missing"] == list(BY_VERSION)
    assert info["train_command"] == "python -m tools.compare_versions"
    assert not any(version["loaded"] for version in info["versions"])


@pytest.mark.slow
def test_a_character_outside_the_vocabulary_is_marked_and_splits_the_text(server):
    status, answer = ask(server, "POST", "/api/score", {"text": "春风\U0001F600春风"})
    assert status == 200
    for version in answer["versions"]:
        assert version["unknown"] == [2]
        assert [p is None for p in version["probs"]] == [True, False, True, True, False]


@pytest.mark.slow
def test_each_writing_step_says_which_candidates_could_be_drawn(server):
    """top-k 3 leaves three of the ten a chance, the chosen among them; a forced step leaves one."""
    status, free = ask(server, "POST", "/api/write", {"version": "v7", "prompt": "春", "length": 5, "top_k": 3})
    assert status == 200
    for step in free["steps"]:
        drawable = [char for char, _, drawn, cut in step["candidates"] if drawn > 0]
        assert len(drawable) == 3 and step["char"] in drawable
        assert {cut for _, _, drawn, cut in step["candidates"] if drawn == 0} == {"top-k"}
    status, in_form = ask(server, "POST", "/api/write", {"version": "v7", "tune": "浣溪沙"})
    forced = [step for step in in_form["steps"] if step["kind"] != "sampled"]
    assert status == 200 and forced
    for step in forced:
        assert [char for char, _, drawn, _ in step["candidates"] if drawn > 0] in ([step["char"]], [])
        assert step["drawn"] == 1.0 and step["kind"] == "rule"  # the form's marks and line breaks


def test_a_bigger_v8_with_tied_weights_is_scored_shown_and_writes(tmp_path, monkeypatch, capsys):
    """A checkpoint at sizes other than the shared defaults (a 64-character context, 3 layers of 3
    heads, the output layer tied to the embedding): nothing in the tools assumes block_size 32,
    4 layers or heads, or an lm_head.weight of its own."""
    monkeypatch.setattr(checkpoints, "SCRIPT_RUNS", tmp_path)  # only the v8 trained here
    v8, runs = BY_VERSION["v8"], tmp_path / "runs"
    v8.train(tiny_config(v8, tmp_path, out_dir=str(runs / "v8"), max_iters=1, block_size=64, n_embd=48,
                         n_head=3, n_layer=3, tie_weights=True))
    explorer = explore.Explorer(runs, CORPUS)
    assert explorer.missing == [v for v in BY_VERSION if v != "v8"]
    [about] = [v for v in explorer.info()["versions"] if v["loaded"]]
    assert (about["block_size"], about["layers"], about["heads"]) == (64, 3, 3)
    model, tokenizer = checkpoints.load("v8", runs / "v8")
    assert model.lm_head.weight is model.token_embedding.weight  # still tied once loaded
    text = TEXT * 3  # longer than the context
    [scored] = explorer.score({"text": text})["versions"]
    expected = scoring.character_logprobs(model, tokenizer.encode(text)).exp()
    assert torch.allclose(torch.tensor(scored["probs"][1:]), expected, atol=1e-5)
    attention = explorer.attention({"text": text, "version": "v8", "layer": 2, "head": 2})
    assert len(attention["chars"]) == 64 and torch.tensor(attention["weights"]).shape == (64, 64)
    assert explorer.write({"version": "v8", "tune": "浣溪沙"})["form"]["score"] == 1.0
    assert write_poem.main(["--version", "v8", "--runs", str(runs)]) == 0
    assert "form score 1.00" in capsys.readouterr().out


# ---- The page, in Chromium

def need(reason):
    """Off CI a missing browser skips the test; in CI (BABYGPT_REQUIRE_BROWSER) it fails it."""
    if os.environ.get("BABYGPT_REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("Playwright is not installed: pip install -r requirements-dev.txt")
    names = ("chromium", "chromium-browser", "google-chrome")
    found = os.environ.get("BABYGPT_CHROMIUM") or next(filter(None, map(shutil.which, names)), None)
    if found is None:
        need("no Chromium: install it (Debian: apt-get install chromium) or set BABYGPT_CHROMIUM")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=found)
        yield chromium
        chromium.close()


class Visit:
    """A page of the explorer, with every console error and every request it made."""

    def __init__(self, browser, server, width=1280, height=800):
        self.server = server
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors, self.requests = [], []
        self.page.on("console", self.on_console)
        self.page.on("pageerror", self.on_page_error)
        self.page.on("request", self.on_request)
        self.page.goto(server.url)

    def on_console(self, message):
        if message.type == "error":
            self.errors.append(message.text)

    def on_page_error(self, error):
        self.errors.append(str(error))

    def on_request(self, request):
        self.requests.append(request.url)

    def check_clean(self):
        """No console error, and not one request to anywhere but this server."""
        assert self.errors == []
        assert self.requests and all(url.startswith(self.server.url) for url in self.requests)

    def screenshot(self, name, full_page=True):
        if SCREENSHOTS:  # plumbing's atomic write: never a half-written PNG
            plumbing.write_file(Path(SCREENSHOTS) / name, self.page.screenshot(full_page=full_page))


@pytest.fixture
def visit(browser, server):
    opened = Visit(browser, server)
    yield opened
    opened.page.close()


@torch.no_grad()
def probabilities_by_hand(model, ids):
    """p(ids[i] | the up to block_size ids before it), one forward pass per character."""
    probs = []
    for i in range(1, len(ids)):
        context = torch.tensor([ids[max(0, i - model.block_size):i]])  # (1, t)
        logits, _ = model(context)  # (1, t, V)
        probs.append(float(F.softmax(logits[0, -1], dim=-1)[ids[i]]))
    return probs


def score_the_tests_text(page):
    """The tests' TEXT in the text box, scored: the tiny models know songci300's characters only,
    and the corpus's first unseen ci may hold others. A full run keeps the real ci the page opens
    on. Returns the text shown."""
    from playwright.sync_api import expect  # installed: the browser fixture checked

    page.wait_for_selector("#compare-rows .version-row")
    if "EXPLORE_RUNS" not in os.environ:
        page.fill("#text", TEXT)
        page.click("#score")
        expect(page.locator('#compare-rows [data-version="v7"] .ch')).to_have_count(len(TEXT))  # redrawn
    return page.input_value("#text")


def loaded(runs):
    """The versions with a checkpoint in runs: every one in the tests' run; a full comparison
    trains v1 to v8 (v9, data parallel, is v8's model)."""
    return [version for version in BY_VERSION if (runs / version / "ckpt.pt").exists()]


def cells(page, selector):
    return page.eval_on_selector_all(selector, "cells => cells.map(c => c.textContent)")


@pytest.mark.slow
def test_browser_side_by_side_shows_each_versions_own_probabilities(visit, runs):
    page = visit.page
    text = score_the_tests_text(page)
    by_hand = {}
    for version in loaded(runs):
        shown = page.eval_on_selector_all(f'#compare-rows [data-version="{version}"] .ch',
                                          "spans => spans.map(s => s.dataset.p === undefined ? null : Number(s.dataset.p))")
        model, tokenizer = checkpoints.load(version, runs / version)
        probs = by_hand[version] = probabilities_by_hand(model.eval(), tokenizer.encode(text))
        assert shown[0] is None and len(shown) == len(text)
        assert max(abs(a - b) for a, b in zip(shown[1:], probs)) < 1e-5, version
        loss = page.text_content(f'#compare-rows [data-version="{version}"] .loss')
        assert float(loss) == pytest.approx(-sum(map(math.log, probs)) / len(probs), abs=1e-3)
        # The table of numbers: the loss by kind of character, the version's own val loss and steps.
        row = cells(page, f'#loss-table tr[data-version="{version}"] td')
        kinds = scoring.loss_by_kind(torch.tensor(probs).log(), scoring.character_kinds(text, model.block_size))
        for cell, (kind_loss, count) in zip(row[2:], kinds.values()):
            assert float(cell.split()[0]) == pytest.approx(kind_loss, abs=1e-3) and f"({count})" in cell
        final = json.loads((runs / version / "metrics.json").read_text(encoding="utf-8"))["final"]
        assert float(row[-3]) == pytest.approx(final["val_loss"], abs=1e-3)
        assert row[-2].startswith(f"{final.get('steps_trained', final['step']):,} / ")
    assert "lower is better" in page.text_content("#numbers")
    # The character where v3 (learned query and key) gains most over v2 (none): shown by keyboard.
    gains = [math.log(p3 / p2) for p2, p3 in zip(by_hand["v2"], by_hand["v3"])]
    index = 1 + gains.index(max(gains))  # by_hand starts at the text's second character
    page.focus(f'#compare-rows [data-version="v3"] .ch[data-index="{index}"]')
    assert page.locator("#candidates table.candidates").count() == len(by_hand)
    # the true one marked in each
    assert page.locator("#candidates tr.true").count() == len(by_hand)
    visit.screenshot("explorer_compare.png")
    visit.check_clean()


@pytest.mark.slow
def test_browser_candidates_show_where_you_point_and_each_row_is_one_tab_stop(visit):
    """At 1280×800 the last row's candidates are in the window; a row is one tab stop, the arrow
    keys move inside it and between rows, and each character is labelled for a screen reader."""
    from playwright.sync_api import expect

    page = visit.page
    text = score_the_tests_text(page)
    rows = page.locator("#compare-rows .version-row")
    rows.last.locator(".ch").nth(len(text) // 2).hover()
    panel = page.locator("#candidates")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 800, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, box
    assert panel.locator("table.candidates").count() == rows.count()
    stops = page.evaluate("[...document.querySelectorAll('#view-compare *')].filter(e => e.tabIndex >= 0).length")
    assert stops == rows.count() + 1  # one per row, and the numbers' <summary>
    page.focus('#compare-rows [data-version="v1"] .ch[tabindex="0"]')
    start = int(page.evaluate("document.activeElement.dataset.index"))
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("[document.activeElement.dataset.index, document.activeElement.closest('.version-row').dataset.version]")
    assert focused == [str(start + 1), "v2"]
    assert page.locator("#candidates .panel-title").text_content().startswith(f"第 {start + 2} 个字")
    labels = page.eval_on_selector_all("#compare-rows .ch", "spans => spans.map(s => s.getAttribute('aria-label'))")
    assert len(labels) == rows.count() * len(text) and all(labels)
    shown = cells(page, "#candidates table.candidates td:nth-child(2)")
    assert shown and "0.000" not in shown  # two significant digits, however small
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    # The English glosses: at least 4.5:1 against the white page (WCAG AA), 4.48:1 before.
    red, green, blue = map(int, re.findall(r"\d+", page.eval_on_selector(".en", "el => getComputedStyle(el).color")))
    assert contrast_on_white(red, green, blue) >= 4.5
    visit.check_clean()


def contrast_on_white(*rgb):
    """WCAG's contrast ratio of a colour against white."""
    linear = [(c / 255 / 12.92) if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


@pytest.mark.slow
@pytest.mark.parametrize("version, layer, head", [("v2", 0, 0), ("v4", 0, 2), ("v7", 1, 3), ("v8", 3, 3)])
def test_browser_attention_map_is_the_heads_own_weights(visit, runs, version, layer, head):
    page = visit.page
    score_the_tests_text(page)
    page.click("#tab-attention")
    page.select_option("#att-version", version)
    page.select_option("#att-layer", str(layer))
    page.select_option("#att-head", str(head))
    page.wait_for_selector(f'#att-map svg[data-head="{version}/{layer}/{head}"]')
    model, tokenizer = checkpoints.load(version, runs / version)
    text = page.input_value("#text")[:model.block_size]
    shown = page.eval_on_selector_all(
        "#att-map rect.cell", "cells => cells.map(c => [+c.dataset.row, +c.dataset.col, +c.dataset.w])")
    weights = torch.zeros(len(text), len(text))
    for row, col, w in shown:
        weights[row, col] = w
    # The head's own weights (tests/test_scoring.py checks them against the head by hand).
    heads = scoring.attention_weights(model, tokenizer.encode(text))
    assert torch.allclose(weights, heads[(layer, head)], atol=1e-5)
    chosen = min(11, len(text) - 1)  # 。 at the end of the first clause of the full run's ci
    page.click(f'#att-text .att-char[data-index="{chosen}"]')  # what it looks at, shown in the text
    assert page.get_attribute("#att-text .att-char.chosen", "data-index") == str(chosen)
    assert page.get_attribute("#att-chosen-row", "y") == str(50 - 1 + 18 * chosen)  # its row outlined
    strongest = int(heads[(layer, head)][chosen].argmax())
    assert f"{text[strongest]} ({strongest + 1})" in page.text_content("#att-row")  # said in words
    if (version, layer, head) == ("v4", 0, 2):
        visit.screenshot("explorer_attention.png")
    visit.check_clean()


def reach_by_hand(weights):
    """The mean over rows of the largest weight times its distance back (tools/explore.py's reach)."""
    rows = weights.tolist()
    return sum(max(row) * (i - row.index(max(row))) for i, row in enumerate(rows)) / len(rows)


@pytest.mark.slow
def test_browser_attention_opens_on_the_head_that_reaches_furthest_with_every_head_beside_it(visit, runs):
    page = visit.page
    score_the_tests_text(page)
    page.focus("#tab-compare")
    page.keyboard.press("ArrowRight")  # the tabs take the arrow keys
    assert page.get_attribute("#tab-attention", "aria-selected") == "true"
    latest = loaded(runs)[-1]
    model, tokenizer = checkpoints.load(latest, runs / latest)
    heads = scoring.attention_weights(model, tokenizer.encode(page.input_value("#text")[:model.block_size]))
    layer, head = max(sorted(heads), key=lambda key: reach_by_hand(heads[key]))
    page.wait_for_selector(f'#att-map svg[data-head="{latest}/{layer}/{head}"]')
    assert f"layer {layer}, head {head}" in page.text_content("#att-note")
    assert page.locator("#att-legend .swatch").count() == 5 and "linear" in page.text_content("#att-legend")
    assert "looked at" in page.text_content("#att-map svg") and "looking" in page.text_content("#att-map svg")
    thumbs = page.locator("#att-overview .thumb")
    assert thumbs.count() == len(heads)
    other = next(key for key in sorted(heads) if key != (layer, head))
    page.click(f'#att-overview .thumb[data-head="{other[0]}/{other[1]}"]')  # enlarged
    page.wait_for_selector(f'#att-map svg[data-head="{latest}/{other[0]}/{other[1]}"]')
    visit.check_clean()


@pytest.mark.slow
def test_browser_writing_shows_what_the_sampler_drew_with_and_what_the_rules_wrote(visit, runs):
    """At temperature 0.5, top-k 5, top-p 0.9: each step's probabilities as drawn are the
    sampler's, computed here from the model; the form's mask is told apart from the sampler's
    cuts, and the prompt, the acrostic and the rules' marks from what was sampled."""
    from playwright.sync_api import expect

    page = visit.page
    page.click("#tab-write")
    assert page.input_value("#w-prompt") == "\n\n浣溪沙\n"  # real line breaks, not a literal \n
    page.select_option("#w-version", "v7")
    page.select_option("#w-tune", "浣溪沙")
    assert "of the corpus's 浣溪沙" in page.text_content("#w-tune-note")  # the form and its share explained
    page.fill("#w-acrostic", "春江花月")
    for knob, value in (("#w-temperature", "0.5"), ("#w-top-k", "5"), ("#w-top-p", "0.9")):
        page.fill(knob, value)
    page.click("#w-start")
    page.wait_for_selector("#w-step:not([disabled])")
    for _ in range(5):
        page.click("#w-step")
    assert page.locator("#w-step-view tbody tr").count() >= 10  # step 5's ten candidates (and the chosen)
    visit.screenshot("explorer_write_step.png")
    page.click("#w-all")
    writing = page.evaluate("state.writing")
    model, tokenizer = checkpoints.load("v7", runs / "v7")
    letters = torch.tensor([ch.isalpha() for ch in tokenizer.chars])  # the form's mask inside a clause
    ids = tokenizer.encode(writing["prompt"])
    sampled = [i for i, step in enumerate(writing["steps"]) if step["kind"] == "sampled"]
    for i, step in enumerate(writing["steps"]):
        if i in sampled[:3]:  # reopened by a click, after 全部
            page.click(f'#w-text .ch[data-step="{i}"]')
            assert f"step {i + 1}/" in page.text_content("#w-step-view caption")
            logits = model(torch.tensor([ids[-model.block_size:]]))[0][0, -1].detach()  # (V,)
            drawn, _ = sampling.drawing_probs(logits, 0.5, 5, 0.9, letters)
            own = F.softmax(logits, dim=-1)
            rows = page.eval_on_selector_all("#w-step-view tbody tr", "rows => rows.map(r => "
                                             "[r.dataset.char, +r.dataset.model, +r.dataset.drawn, r.cells[4].textContent])")
            for char, model_p, drawn_p, why in rows:
                c = tokenizer.stoi[char]
                assert (model_p, drawn_p) == (pytest.approx(float(own[c]), abs=1e-6), pytest.approx(float(drawn[c]), abs=1e-6))
                if drawn_p == 0:
                    assert ("top-" in why) == char.isalpha() and ("格律屏蔽" in why) == (not char.isalpha()), why
        ids.append(tokenizer.stoi[step["char"]])
    kinds = [step["kind"] for step in writing["steps"]]
    assert [s["char"] for s in writing["steps"] if s["kind"] == "acrostic"] == list("春江花月")
    assert page.locator("#w-text .kind-acrostic").count() == 4
    assert page.locator("#w-text .kind-rule").count() == kinds.count("rule")
    assert page.locator("#w-text .kind-prompt").count() == len(writing["prompt"].lstrip("\n"))
    colour = "el => getComputedStyle(el).color"
    assert len({page.eval_on_selector(f"#w-text .kind-{kind}", colour) for kind in ("prompt", "acrostic", "rule", "sampled")}) == 4
    lines = writing["prompt"].strip("\n").split("\n") + list(corpus.ci_lines("".join(s["char"] for s in writing["steps"])))
    templates = poetry_form.templates(corpus.split_ci(CORPUS.read_text(encoding="utf-8")))
    assert lines[0] == "浣溪沙" and poetry_form.form_score(lines[1:], templates["浣溪沙"]) == 1.0
    assert page.text_content("#w-result .form-score") == "1.00"
    # The 格律 imposed too: every rhyme position rhymes, every fixed tone is met (tests/test_prosody.py
    # checks both against the corpus by hand); the rhyme positions underlined, no tone marked missed.
    page.check("#w-rhyme")
    page.check("#w-tones")
    page.click("#w-start")
    page.wait_for_selector("#w-step:not([disabled])")
    page.click("#w-all")
    assert page.text_content("#w-result .rhyme-score") == page.text_content("#w-result .tone-score") == "1.00"
    rhymes = page.evaluate("state.writing.form.rhymes")
    assert page.locator("#w-text .rhyme-pos").count() == len(rhymes) == 5  # 浣溪沙's
    assert page.locator("#w-text .off-tone").count() == 0 and page.locator("#w-text .on-tone").count() > 10
    visit.screenshot("explorer_write.png")
    page.fill("#w-temperature", "0.7")  # a knob changed: the writing on screen is marked stale
    expect(page.locator("#w-stale")).to_be_visible()
    assert page.is_disabled("#w-step") and "stale" in page.get_attribute("#w-output", "class")
    visit.check_clean()


@pytest.mark.slow
def test_browser_on_a_phone_nothing_scrolls_sideways(browser, server):
    from playwright.sync_api import expect

    visit = Visit(browser, server, width=390, height=844)
    page = visit.page
    width = "document.documentElement.scrollWidth"
    score_the_tests_text(page)
    first = page.locator("#compare-rows .version-row").first
    first.locator(".ch").nth(5).click()  # a tap: the candidates open under the tapped row
    expect(page.locator("#candidates")).to_be_visible()
    assert page.locator("#candidates").bounding_box()["y"] >= first.bounding_box()["y"] + first.bounding_box()["height"] - 1
    assert page.evaluate(width) <= 390
    first.evaluate("row => row.scrollIntoView()")  # the tapped row at the top, its candidates under it
    visit.screenshot("explorer_phone.png", full_page=False)
    page.click("#tab-attention")
    page.wait_for_selector("#att-map svg")
    assert page.evaluate(width) <= 390
    page.click("#tab-write")
    page.select_option("#w-tune", "浣溪沙")
    page.click("#w-start")
    page.wait_for_selector("#w-step:not([disabled])")
    page.click("#w-all")
    page.click('#w-text .ch[data-step="3"]')
    assert page.evaluate(width) <= 390
    visit.check_clean()
    page.close()


@pytest.mark.slow
def test_browser_says_it_is_computing_and_dims_the_old_answer(visit, server, monkeypatch):
    from playwright.sync_api import expect

    page = visit.page
    page.wait_for_selector("#compare-rows .version-row")
    release, score = threading.Event(), server.explorer.score
    monkeypatch.setattr(server.explorer, "score", lambda request: release.wait(30) and score(request))
    page.click("#score")
    expect(page.locator("#busy")).to_be_visible()
    assert "stale" in page.get_attribute("#view-compare", "class")
    release.set()
    expect(page.locator("#busy")).to_be_hidden()
    expect(page.locator("#view-compare")).not_to_have_class(re.compile("stale"))
    visit.check_clean()


@pytest.mark.slow
def test_browser_newcomer_page_names_the_missing_versions(browser, tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "SCRIPT_RUNS", tmp_path)
    with serving(explore.Explorer(tmp_path, CORPUS)) as empty:
        visit = Visit(browser, empty)
        visit.page.wait_for_selector("#missing:not([hidden])")
        assert "python -m tools.compare_versions" in visit.page.text_content("#missing")
        visit.check_clean()


def mixed_runs_folder(runs, tmp_path):
    """The tests' comparison as an interrupted rerun at another seed leaves it: v2 from seed 1338,
    v3 stopped halfway, the rest from seed 1337."""
    mixed = tmp_path / "mixed"
    shutil.copytree(runs, mixed, ignore=shutil.ignore_patterns("seeds", "earlier"))
    shutil.rmtree(mixed / "v2")
    shutil.copytree(runs / "seeds" / "1338" / "v2", mixed / "v2")
    metrics = json.loads((mixed / "v3" / "metrics.json").read_text(encoding="utf-8"))
    metrics["final"].update(step=10, steps_trained=10)
    (mixed / "v3" / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    return mixed


@pytest.mark.slow
def test_checkpoints_of_different_runs_are_never_shown_as_one(browser, tiny_comparison, tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "SCRIPT_RUNS", tmp_path)
    with serving(explore.Explorer(mixed_runs_folder(tiny_comparison[2], tmp_path), CORPUS)) as mixed:
        status, info = ask(mixed, "GET", "/api/info")
        assert status == 200
        assert info["mixed"] == ["trained at different settings: v1, v3, v4, v5, v6, v7, v8, v9: seed 1337; "
                                 "v2: seed 1338", "v3 stopped at step 10 of 20"]
        assert info["versions"][1]["origin"]["settings"]["seed"] == 1338
        visit = Visit(browser, mixed)
        visit.page.wait_for_selector("#mixed:not([hidden])")
        assert "v2: seed 1338" in visit.page.text_content("#mixed")
        visit.check_clean()


# ---- The command line, a bug, the benchmark

@pytest.mark.slow
def test_a_bug_is_a_500_with_its_traceback_in_the_terminal_and_the_server_serves_on(server, monkeypatch, capsys):
    def broken(request):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(server.explorer, "score", broken)
    status, answer = ask(server, "POST", "/api/score", {"text": "春风"})
    assert status == 500 and "terminal" in answer["error"]
    assert "ZeroDivisionError: a bug" in capsys.readouterr().err
    assert ask(server, "GET", "/api/info")[0] == 200


def test_a_model_of_a_corpus_without_the_scripts_prompts_loads(tmp_path):
    from test_bad_input import write_checkpoint

    write_checkpoint(BY_VERSION["v1"], tmp_path / "runs" / "v1", "调\n一二三。\n\n" * 50)
    model, tokenizer = checkpoints.load("v1", tmp_path / "runs" / "v1")
    assert "春" not in tokenizer.chars


def truncated_v3(runs):
    (runs / "v3").mkdir(parents=True)
    (runs / "v3" / "ckpt.pt").write_bytes(b"PK\x03\x04 not all of it")


@pytest.mark.parametrize("args, message, status", [
    (["--data", "{tmp}/none.txt"], "cannot read the corpus", 2),
    (["--port", "{busy}"], "cannot listen on 127.0.0.1:", 1),
    (["--port", "70000"], "--port must be from 0 to 65535, not 70000", 2),
    (["--runs", "{tmp}/truncated"], "v3/ckpt.pt is corrupt or truncated", 2),
])
def test_cli_problem_is_one_line(tmp_path, monkeypatch, capsys, args, message, status):
    monkeypatch.setattr(checkpoints, "SCRIPT_RUNS", tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        filled = [a.format(tmp=tmp_path, busy=busy.getsockname()[1]) for a in args]
        truncated_v3(tmp_path / "truncated")
        got = explore.main(["--runs", str(tmp_path), "--data", str(SMALL_CORPUS), *filled])
    err = capsys.readouterr().err
    assert got == status and message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.slow
def test_benchmark_prints_its_table(runs, capsys):
    from benchmarks import bench_explore

    bench_explore.main(["--runs", str(runs), "--data", str(SMALL_CORPUS), "--repeat", "2", "--length", "40"])
    out = capsys.readouterr().out
    assert f"| score 40 characters × {len(BY_VERSION)} versions |" in out and "| one writing step, v7 |" in out


def test_the_benchmark_without_its_corpus_is_one_line(tmp_path):
    from benchmarks import bench_explore

    with pytest.raises(SystemExit) as exit_:  # a message, printed as one line, exit status 1
        bench_explore.main(["--runs", str(tmp_path), "--data", str(tmp_path / "none.txt")])
    assert str(exit_.value.code).startswith("error: cannot read the corpus")
    assert "\n" not in str(exit_.value.code)
