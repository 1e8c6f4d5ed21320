"""The explorer: every version you trained, side by side, in your browser, on any line of poetry.

    python -m tools.explore                                   # then open the address it prints
    python -m tools.explore --runs runs/notebooks/08_compare_versions

Three views (对照 / 注意力 / 写作):
- Side by side: a text, each character coloured by the probability each version gave it, each
  version's mean loss on it, by kind of character, beside its own val loss; point at a character
  (tap it, or Tab into a row) for every version's ten likeliest candidates there, beside it.
- Attention: every head's weights on the text's first block_size characters, small, and one
  enlarged: the head that looks furthest back (reach), or the one chosen.
- Write: a version writes, step by step, freely or to a tune (its form enforced, an acrostic,
  its rhyme and tones if asked); at each step its ten likeliest candidates, the model's
  probability of each and the one it was drawn with after temperature, top-k, top-p and the
  form's mask; then the form, rhyme and tone scores and the copy check.

Checkpoints: <--runs>/<version>/ckpt.pt (the comparison's layout, default runs/compare), else each
script's own runs/<script>/ckpt.pt. The page lists the versions it did not find and the command
that trains them. Every number comes from the scripts' own model classes (tools/scoring.py,
tools/sampling.py, tools/poetry_form.py, tools/copy_check.py); the page (tools/explorer/) is
plain HTML, CSS and JavaScript, and the server is the standard library's: nothing to install,
nothing fetched from elsewhere.

Safe by default: it listens on 127.0.0.1 only (another address only with --host, with a
warning), answers only requests addressed to it by that name (a Host header naming another site
is refused, so a web page cannot reach it through DNS rebinding), serves the page's own files and
nothing else, and limits what one request may ask. A bad request gets a JSON error and a 4xx
status; the server goes on serving. A connection has REQUEST_TIMEOUT seconds to send its request;
at most MAX_WAITING requests wait for the models at once (more get a 503), and a request whose
client has gone is dropped before the models compute it.
"""

import argparse
import concurrent.futures
import ipaddress
import json
import math
import select
import socket
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from operator import attrgetter
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import torch

import plumbing
from tools import checkpoints, corpus, poetry_form, prosody, sampling, scoring
from tools.cjk_font import FONT
from tools.copy_check import CopyCheck
from tools.versions import VERSIONS

MAX_TEXT = 2000  # characters scored in one request
MAX_WRITE = 300  # characters written in one request
MAX_BODY = 64 * 1024  # bytes of one request's JSON
CANDIDATES = 10  # the likeliest characters shown at each position
MAX_OVERVIEW = 300_000  # attention weights sent for the overview of every head (about 3 MB)
REQUEST_TIMEOUT = 10  # seconds a connection has to send its whole request
MAX_WAITING = 8  # requests waiting for the models at once; one more gets a 503
TRAIN_COMMAND = "python -m tools.compare_versions"  # trains every version into runs/compare
PAGE = Path(__file__).parent / "explorer"
STATIC = {  # the only files served: path -> (file, content type)
    "/": (PAGE / "index.html", "text/html; charset=utf-8"),
    "/explore.js": (PAGE / "explore.js", "text/javascript; charset=utf-8"),
    "/explore.css": (PAGE / "explore.css", "text/css; charset=utf-8"),
    "/favicon.svg": (PAGE / "favicon.svg", "image/svg+xml"),
    "/font.otf": (FONT, "font/otf"),
}
JSON_TYPE = "application/json; charset=utf-8"
# The page may load only from this server: no script, font or request leaves it.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
}


class RequestError(Exception):
    """A request the explorer refuses: its HTTP status and a message for the page."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class ClientGone(Exception):
    """The client closed its connection while its request waited: there is no one to answer."""


current = threading.local()  # .connection: the socket of the request this thread answers


def client_gone():
    """Has the client of this thread's request closed its connection? (Readable, with nothing to
    read, is a closed socket.) False outside a request: in tests that call the Explorer directly."""
    connection = getattr(current, "connection", None)
    if connection is None:
        return False
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


# ---- What the page asks, answered by the models: plain Python, tested without a browser

class Explorer:
    def __init__(self, runs, data, threads=1):
        """Load every version found in runs (or its script's own runs/), and read the corpus for
        the sample ci, the tunes' templates and the copy check. The corpus is read once, here."""
        text = corpus.read(data)  # plumbing.BabyGPTError if it cannot be used
        self.samples = [ci.text for ci in corpus.validation_ci(text)]
        self.cis = corpus.split_ci(text)
        self.templates = poetry_form.templates(self.cis)
        self.measured = {}  # {tune: prosody.Prosody}, measured on the first request for it
        self.copy_check = CopyCheck(corpus.training_text(text))
        # Every torch call runs on this one thread, one at a time. Each thread that calls torch
        # gets its own team of OpenMP workers, and two teams on the same cores slow each other:
        # a v7 writing step took 1.4 ms on one thread, 10 ms once a second thread had computed.
        self.torch_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="torch")
        self.places = threading.BoundedSemaphore(MAX_WAITING)  # in the torch thread's queue
        self.models, self.missing = self.on_torch_thread(load_models, runs)
        self.origins = {version: origin(version, runs) for version in self.models}
        self.mixed = mixed_runs(self.origins)  # said on the page: never shown as one run
        # That thread's CPU threads (--threads, or timed on the largest model's writing step).
        largest = max((model for _, model, _ in self.models.values()), default=None,
                      key=lambda model: sum(p.numel() for p in model.parameters()))
        self.threads = (self.on_torch_thread(plumbing.choose_writing_threads, threads, largest)
                        if largest is not None else "none (no model)")

    def on_torch_thread(self, function, *args, **kwargs):
        """function(*args, **kwargs) computed on the torch thread, in turn with the others. With
        MAX_WAITING already waiting it is a 503; if the client goes while it waits, it is
        dropped."""
        if not self.places.acquire(blocking=False):
            raise RequestError(503, f"busy: {MAX_WAITING} requests are waiting for the models; "
                               "try again in a moment")
        future = self.torch_thread.submit(function, *args, **kwargs)
        future.add_done_callback(lambda _: self.places.release())  # run, failed or cancelled
        while True:
            try:
                return future.result(timeout=0.25)
            except concurrent.futures.TimeoutError:
                if client_gone():
                    future.cancel()  # not yet started: never computed
                    raise ClientGone from None

    def info(self):
        versions = []
        for module in VERSIONS:
            about = {"version": module.VERSION, "concept": module.CONCEPT,
                     "loaded": module.VERSION in self.models}
            if about["loaded"]:
                _, model, tokenizer = self.models[module.VERSION]
                heads = attention_heads(model)
                about.update(origin=self.origins[module.VERSION],
                             block_size=model.block_size, vocab_size=tokenizer.vocab_size,
                             layers=max((layer + 1 for layer, _ in heads), default=0),
                             heads=max((head + 1 for _, head in heads), default=0))
            versions.append(about)
        tunes = sorted(self.templates.values(), key=attrgetter("count"), reverse=True)
        return {"versions": versions, "missing": self.missing, "mixed": self.mixed,
                "train_command": TRAIN_COMMAND,
                "tunes": [{"tune": t.tune, "form": str(t), "count": t.count, "share": t.share}
                          for t in tunes],
                "samples": len(self.samples), "limits": {"text": MAX_TEXT, "write": MAX_WRITE}}

    def sample(self, index):
        if not self.samples:
            raise RequestError(404, "the corpus's validation split holds no whole ci")
        return {"index": index % len(self.samples), "text": self.samples[index % len(self.samples)]}

    def score(self, request):
        """Each version's probability of every character of the text, its ten likeliest
        candidates there, and its mean loss. A character outside a version's vocabulary is
        marked; the version reads the text on either side of it as two texts."""
        text = text_field(request, "text")
        scores = [self.on_torch_thread(self.score_one, version, text) for version in self.models]
        return {"text": text, "versions": scores}

    def score_one(self, version, text):
        _, model, tokenizer = self.models[version]
        probs, top = [None] * len(text), [None] * len(text)  # the first character has no prediction
        nats = [None] * len(text)  # -log p: each character's loss
        unknown = [i for i, ch in enumerate(text) if ch not in tokenizer.stoi]
        for start, end in known_runs(text, unknown):
            logprobs = scoring.next_logprobs(model, tokenizer.encode(text[start:end]))  # (n - 1, V)
            # (n - 1,): the true next characters
            ids = torch.tensor(tokenizer.encode(text[start + 1:end]))
            true = logprobs.gather(-1, ids[:, None])[:, 0]  # (n - 1,): their log-probabilities
            best = torch.topk(logprobs, min(CANDIDATES, logprobs.shape[-1]))  # (n - 1, 10) each
            best_probs, best_ids = best.values.exp().tolist(), best.indices.tolist()
            for i in range(end - start - 1):
                probs[start + 1 + i] = math.exp(true[i])
                nats[start + 1 + i] = -float(true[i])
                # Six decimals are plenty for a list shown to two significant digits, and make the
                # answer about 40% smaller.
                top[start + 1 + i] = [[tokenizer.chars[c], round(p, 6)]
                                      for c, p in zip(best_ids[i], best_probs[i])]
        scored = [n for n in nats if n is not None]
        kinds = scoring.character_kinds(text, model.block_size)  # kinds[i - 1]: text[i]'s kind
        by_kind = {}
        for i, n in enumerate(nats):
            if n is not None:
                by_kind.setdefault(kinds[i - 1], []).append(n)
        return {"version": version, "loss": sum(scored) / len(scored) if scored else None,
                "scored": len(scored), "probs": probs, "top": top, "unknown": unknown,
                "by_kind": [[kind, sum(by_kind[kind]) / len(by_kind[kind]), len(by_kind[kind])]
                            for kind in scoring.KINDS if kind in by_kind]}

    def attention(self, request):
        """Every head's weights on the text's first block_size characters ((t, t) rows, in an
        overview when not too many), and one head's: the one asked for, or else the head that
        looks furthest back (reach)."""
        version = version_field(request, self.models)
        _, model, tokenizer = self.models[version]
        heads = attention_heads(model)
        if not heads:
            raise RequestError(400, f"{version} has no attention (it reads one character); "
                               "choose v2 or a later version")
        text = text_field(request, "text")[:model.block_size]
        outside = sorted({ch for ch in text if ch not in tokenizer.stoi})
        if outside:
            raise RequestError(400, f"not in {version}'s vocabulary: {' '.join(outside)}")
        weights = self.on_torch_thread(scoring.attention_weights, model, tokenizer.encode(text))
        reaches = {key: reach(head_weights) for key, head_weights in weights.items()}
        if request.get("layer") is None and request.get("head") is None:
            layer, head = max(heads, key=lambda key: reaches[key][0])  # the first of equals
        else:
            layer = int_field(request, "layer", 0, 0, max(layer for layer, _ in heads))
            head = int_field(request, "head", 0, 0, max(head for _, head in heads))
        overview = len(heads) * len(text) ** 2 <= MAX_OVERVIEW
        return {"version": version, "layer": layer, "head": head, "chars": list(text),
                "weights": weights[(layer, head)].tolist(),
                "heads": [{"layer": l, "head": h, "reach": reaches[(l, h)][0],
                           "distance": reaches[(l, h)][1],
                           "weights": weights[(l, h)].tolist() if overview else None}
                          for l, h in heads]}

    def prosody(self, template):
        """Where template's tune rhymes and which tones it fixes, measured once on its ci."""
        if template.tune not in self.measured:
            self.measured[template.tune] = prosody.measure(self.cis, template)
        return self.measured[template.tune]

    def write(self, request):
        """A version writes: freely after a prompt, or to a tune (with an acrostic), step by
        step."""
        version = version_field(request, self.models)
        _, model, tokenizer = self.models[version]
        knobs = dict(temperature=float_field(request, "temperature", 1.0, 0.01, 10.0),
                     top_k=optional(request, "top_k", int_field, 1, tokenizer.vocab_size),
                     top_p=optional(request, "top_p", float_field, 0.001, 1.0),
                     seed=int_field(request, "seed", 1337, 0, 2**63 - 1))
        tune = request.get("tune") or None
        if tune is None:
            prompt = text_field(request, "prompt")
            outside = sorted({ch for ch in prompt if ch not in tokenizer.stoi})
            if outside:
                raise RequestError(400, f"not in {version}'s vocabulary: {' '.join(outside)}")
            length = int_field(request, "length", 100, 1, MAX_WRITE)
            writing = self.on_torch_thread(sampling.write_free, model, tokenizer, prompt, length,
                                           **knobs)
            lines = [line for line in writing.text[len(prompt):].split("\n") if line]
            form = None
        else:
            template = self.templates.get(corpus.tune_name(str(tune)))
            if template is None:
                raise RequestError(400, f"no template for {tune}: the corpus has fewer than "
                                   f"{poetry_form.MIN_CI} ci of it")
            acrostic = str(request.get("acrostic") or "")
            measured = self.prosody(template)
            rules = dict(measured=measured, rhyme="" if bool_field(request, "rhyme") else None,
                         tones=bool_field(request, "tones"))
            problems = sampling.check_writable(tokenizer, template, acrostic, **rules)
            if problems:
                raise RequestError(400, f"{version} cannot write {template.tune}: "
                                   f"{'; '.join(problems)}")
            writing = self.on_torch_thread(sampling.write_in_form, model, tokenizer, template,
                                           acrostic, **knobs, **rules)
            lines = corpus.ci_lines(writing.written)
            form = {"tune": template.tune, "template": str(template), "share": template.share,
                    "score": poetry_form.form_score(lines, template),
                    "rhymes": list(measured.rhymes), "tones": list(measured.tones),
                    "rhyme_score": prosody.rhyme_score(lines, measured),
                    "tone_score": prosody.tone_score(lines, measured)}
        copy = None
        if lines:
            check = self.copy_check.check(lines)
            copy = {"4-gram": no_nan(check["4-gram"]), "8-gram": no_nan(check["8-gram"]),
                    "longest": check["longest"]}
        steps = [{"char": step.char, "logprob": step.logprob, "drawn": step.drawn,
                  "kind": step_kind(step), "tone": prosody.level(step.char),
                  "candidates": [list(candidate) for candidate in step.candidates]}
                 for step in writing.steps]
        return {"version": version, "prompt": writing.prompt, "text": writing.text, "steps": steps,
                "mean_logprob": writing.mean_logprob, "form": form, "copy": copy}


def load_models(runs):
    """{version: (script module, model, tokenizer)} of the checkpoints found, and the versions
    missing."""
    models, missing = {}, []
    for module in VERSIONS:
        folder = checkpoints.checkpoint_folder(module.VERSION, runs)
        if folder is None:
            missing.append(module.VERSION)
            continue
        model, tokenizer = checkpoints.load(module.VERSION, folder)
        models[module.VERSION] = (module, model, tokenizer)
    return models, missing


# The settings that make checkpoints one run: the same budget, corpus and seed for every version.
ONE_RUN = ("data", "max_iters", "batch_size", "block_size", "n_embd", "learning_rate", "seed")


def origin(version, runs):
    """Where version's checkpoint comes from, read from the metrics.json beside it: its folder,
    the step it reached of its max_iters, its last val loss and the settings of ONE_RUN (None where
    metrics.json is missing or unreadable)."""
    folder = checkpoints.checkpoint_folder(version, runs)
    about = {"folder": str(folder), "step": None, "max_iters": None, "val_loss": None,
             "settings": None}
    try:
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        config, final = metrics["config"], metrics["final"]
        about.update(step=final.get("steps_trained", final["step"]),  # a stop saves unevaluated
                     max_iters=config["max_iters"], val_loss=final["val_loss"],
                     settings={k: config[k] for k in ONE_RUN})
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return about


def mixed_runs(origins):
    """What makes the loaded checkpoints more than one run, in sentences for the page: versions
    from other folders, at other settings, stopped before their last step. [] when they are one."""
    said = []
    folders = {}
    for version, about in origins.items():
        folders.setdefault(str(Path(about["folder"]).parent), []).append(version)
    if len(folders) > 1:
        said.append("from different folders: " + "; ".join(
            f"{', '.join(versions)} from {folder}" for folder, versions in folders.items()))
    groups = {}  # the settings of ONE_RUN, as text: the versions trained with them
    for version, about in origins.items():
        groups.setdefault(json.dumps(about["settings"], sort_keys=True), []).append(version)
    if len(groups) > 1:
        known = [about["settings"] for about in origins.values() if about["settings"]]
        differ = [k for k in ONE_RUN if len({str(settings[k]) for settings in known}) > 1]
        parts = []
        for key, versions in groups.items():
            settings = json.loads(key)
            told = (", ".join(f"{k} {settings[k]}" for k in differ) or "its metrics.json"
                    if settings else "no metrics.json")
            parts.append(f"{', '.join(versions)}: {told}")
        said.append("trained at different settings: " + "; ".join(parts))
    for version, about in origins.items():
        if about["step"] is not None and about["step"] < about["max_iters"]:
            said.append(f"{version} stopped at step {about['step']:,} of {about['max_iters']:,}")
    return said


def attention_heads(model):
    """(layer, head) of every attention head the model has; none for v1."""
    return sorted(scoring.layer_and_head(name) for name, module in model.named_modules()
                  if scoring.is_attention(module))


def reach(weights):
    """How far back a head looks, from its (t, t) weights: the mean over its rows of the weight of
    the character each row weighs most times that character's distance back (a head looking at
    itself reaches 0, as v2's does; a head spread thin reaches little), and the mean distance
    alone."""
    strongest, where = weights.max(dim=-1)  # (t,) each: each row's largest weight, and its column
    distance = torch.arange(len(weights)) - where  # (t,): how many characters back it is
    return float((strongest * distance).mean()), float(distance.float().mean())


def step_kind(step):
    """What wrote a step: the sampler, the acrostic (a forced letter) or the form's rules (a
    forced mark or line break)."""
    if not step.forced:
        return "sampled"
    return "acrostic" if step.char.isalpha() else "rule"


def known_runs(text, unknown):
    """(start, end) of each stretch of text between the unknown characters' positions."""
    runs, start = [], 0
    for position in [*unknown, len(text)]:
        if position - start >= 2:  # one character alone has nothing to predict
            runs.append((start, position))
        start = position + 1
    return runs


def no_nan(value):
    return None if isinstance(value, float) and math.isnan(value) else value  # JSON has no NaN


# ---- A request's fields, checked once here: the only input from outside

def text_field(request, name):
    text = request.get(name)
    if not isinstance(text, str) or not text:
        raise RequestError(400, f"{name} must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise RequestError(413, f"{name} has {len(text):,} characters; at most {MAX_TEXT:,}")
    return text


def version_field(request, models):
    version = request.get("version")
    if version not in models:
        known = ", ".join(models) or "none"
        raise RequestError(404, f"no version {version!r} here (loaded: {known})")
    return version


def int_field(request, name, default, low, high):
    value = request.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise RequestError(400, f"{name} must be a whole number from {low} to {high}, "
                           f"not {value!r}")
    return value


def float_field(request, name, default, low, high):
    value = request.get(name, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        raise RequestError(400, f"{name} must be a number from {low} to {high}, not {value!r}")
    return float(value)


def bool_field(request, name):
    value = request.get(name, False)
    if not isinstance(value, bool):
        raise RequestError(400, f"{name} must be true or false, not {value!r}")
    return value


def optional(request, name, field, low, high):
    """A field that may be absent or null (no top-k, no top-p)."""
    return None if request.get(name) is None else field(request, name, None, low, high)


# ---- The web server: the standard library's

class ExplorerServer(ThreadingHTTPServer):
    daemon_threads = True  # Ctrl-C does not wait for an open connection

    def __init__(self, address, explorer):
        super().__init__(address, ExplorerHandler)
        self.explorer = explorer
        host, port = self.server_address[:2]
        names = {host, "localhost"} if host == "127.0.0.1" else {host}
        self.hosts = {f"{name}:{port}" for name in names}  # the Host headers it answers
        self.any_address = host != "127.0.0.1"  # an explicit --host: other machines may ask

    def is_addressed_here(self, host_header):
        """Is a request's Host header this server? Its own names, always. With an explicit --host,
        also any IP address with its port: another machine may reach it by any of this one's
        addresses, and a page of DNS rebinding comes by a host name, never by an address."""
        if host_header in self.hosts:
            return True
        name, _, port = (host_header or "").rpartition(":")
        if not self.any_address or port != str(self.server_address[1]):
            return False
        try:
            ipaddress.ip_address(name.removeprefix("[").removesuffix("]"))  # [::1] in a URL
        except ValueError:
            return False
        return True

    @property
    def url(self):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


class ExplorerHandler(BaseHTTPRequestHandler):
    server_version = "BabyGPT-explorer"
    timeout = REQUEST_TIMEOUT  # on the connection's socket: a silent client is closed, not kept

    def do_GET(self):
        self.answer(self.get)

    def do_POST(self):
        self.answer(self.post)

    def answer(self, handle):
        """Every request: the Host checked, then handled; any error is a JSON line and a status."""
        current.connection = self.connection
        try:
            if not self.server.is_addressed_here(self.headers.get("Host")):
                raise RequestError(403, f"Host {self.headers.get('Host')!r} is not this "
                                   "server's address")
            status, body, content_type = handle()
        except ClientGone:  # no one to answer
            self.close_connection = True
            return
        except RequestError as err:
            status, body, content_type = err.status, json_bytes({"error": str(err)}), JSON_TYPE
        except Exception:  # a bug: its traceback in the terminal, one line on the page, serving on
            traceback.print_exc()
            status, content_type = 500, JSON_TYPE
            body = json_bytes({"error": "internal error; the terminal running explore.py shows it"})
        self.send(status, body, content_type)

    def send_error(self, code, message=None, explain=None):
        """http.server's own refusals (a malformed request line, headers too long, a method other
        than GET and POST), as JSON like every other."""
        if code == HTTPStatus.NOT_IMPLEMENTED:  # http.server's answer to an unknown method
            code, message = HTTPStatus.METHOD_NOT_ALLOWED, "only GET and POST"
        self.send(code, json_bytes({"error": message or HTTPStatus(code).phrase}), JSON_TYPE)

    def send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def get(self):
        url = urlsplit(self.path)
        explorer = self.server.explorer
        if url.path == "/api/info":
            return 200, json_bytes(explorer.info()), JSON_TYPE
        if url.path == "/api/sample":
            index = parse_qs(url.query).get("index", ["0"])[0]
            if not (index.isascii() and index.isdigit()) or len(index) > 9:
                raise RequestError(400, "index must be a whole number")
            return 200, json_bytes(explorer.sample(int(index))), JSON_TYPE
        if url.path not in STATIC:  # only the page's own files: no path reaches any other
            raise RequestError(404, f"no page {url.path!r} here")
        path, content_type = STATIC[url.path]
        return 200, path.read_bytes(), content_type

    def post(self):
        explorer = self.server.explorer
        routes = {"/api/score": explorer.score, "/api/attention": explorer.attention,
                  "/api/write": explorer.write}
        route = routes.get(urlsplit(self.path).path)
        if route is None:
            raise RequestError(404, f"no API {self.path!r} here")
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            raise RequestError(415, "send JSON, with Content-Type: application/json")
        length = self.headers.get("Content-Length", "")
        if not (length.isascii() and length.isdigit()):
            raise RequestError(411, "a request needs a Content-Length")
        if int(length) > MAX_BODY:
            raise RequestError(413, f"the request has {int(length):,} bytes; at most {MAX_BODY:,}")
        try:
            body = self.rfile.read(int(length))
        except TimeoutError:
            raise RequestError(408, f"the request's body did not come within {REQUEST_TIMEOUT} "
                               "s") from None
        return 200, json_bytes(route(parse_request(body))), JSON_TYPE

    def log_request(self, code="-", size="-"):
        if str(code).isdigit() and int(code) >= 400:  # only refusals: the terminal stays readable
            super().log_request(code, size)


def json_bytes(value):
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def parse_request(body):
    """A request's JSON body, checked once here: a JSON object of valid Unicode, no NaN."""
    def no_constant(name):
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        request = json.loads(body, parse_constant=no_constant)
    # ValueError: bad JSON, or an integer of over 4,300 digits; RecursionError: [[[[...]]]] nested
    # too deep for Python's parser.
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise RequestError(400, f"the request is not JSON: {str(err):.200}") from None
    if not isinstance(request, dict):
        raise RequestError(400, "the request must be a JSON object")
    try:
        json_bytes(request)
    except UnicodeEncodeError:  # "\ud800": half of a UTF-16 pair, no character
        raise RequestError(400, "the request holds half a surrogate pair (\\ud800-\\udfff), "
                           "which is no character") from None
    return request


# ---- The command line

def build_parser():
    parser = plumbing.OneLineErrorParser(description=__doc__.splitlines()[0],
                                         formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--runs", default=str(plumbing.HERE / "runs" / "compare"),
                        help="folder of <version>/ckpt.pt")
    parser.add_argument("--data", default=str(plumbing.HERE / "data" / "songci.txt"),
                        help="the corpus the models trained on: sample ci, tunes, copy check")
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on; another "
                        "than 127.0.0.1 lets other machines on the network use the models")
    parser.add_argument("--port", type=int, default=8000, help="0: any free port; at most 65535")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch; 0: time "
                        "a writing step at 1, 2, 4... and keep the fastest. One by default: with "
                        "the CPU busy, one thread answered 2-5 times faster than two "
                        "(docs/explorer.md)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost"):
        print(f"warning: --host {args.host}: other machines that reach this address can use the "
              "explorer; it has no password", file=sys.stderr)
    try:
        plumbing.require(0 <= args.port <= 65535,
                         f"--port must be from 0 to 65535, not {args.port}")
        plumbing.check_threads(args.threads)
        explorer = Explorer(args.runs, args.data, args.threads)
    except plumbing.BabyGPTError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.status
    if explorer.missing:
        print(f"not found: {', '.join(explorer.missing)} (train them: {TRAIN_COMMAND})")
    try:
        server = ExplorerServer((args.host, args.port), explorer)
    except OSError as err:
        print(f"error: cannot listen on {args.host}:{args.port}: {err.strerror}; try --port 0",
              file=sys.stderr)
        return 1
    print(f"CPU threads: {explorer.threads}")
    print(f"BabyGPT explorer: open {server.url} (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
