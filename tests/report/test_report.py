"""The HTML run report, on a stub run of every method: every section is there, its numbers are
stats.json's, and the page opens in a real headless browser (Debian's chromium) without a
console error. Screenshots and a print-view PDF are kept in tests/artifacts/ (ignored by git;
INSTRUCTGEN_TEST_ARTIFACTS moves them)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.report.build import build_report, write_report
from pipeline.report.estimate import estimate_html
from pipeline.report.textstats import diversity
from pipeline.report.verbs import NO_OBJECT, verb_noun
from tests.helpers import run

METHODS = {
    "self-instruct": {"target": 60},
    "unnatural": {"method": "unnatural", "target": 12},
    "evol-instruct": {"method": "evol-instruct", "rounds": 3, "limit": 12},
}
SECTIONS = ["summary", "funnel", "similarity", "diversity", "lengths", "cost", "sample"]
CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
ARTIFACTS = Path(os.environ.get("INSTRUCTGEN_TEST_ARTIFACTS", Path(__file__).parent / "artifacts"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    for name, config in METHODS.items():
        run(base / name, **config)
    return {name: base / name for name in METHODS}


class Page(HTMLParser):
    """What the tests read from a report: sections, tagged numbers and a few data attributes."""

    ATTRS = ("data-scored", "data-above", "data-drops", "data-lineage", "data-run")

    def __init__(self, html: str):
        super().__init__()
        self.sections: list[str] = []
        self.keys: dict[str, list[str]] = {}
        self.attrs: dict[str, list[str]] = {name: [] for name in self.ATTRS}
        self._key: str | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-section" in a:
            self.sections.append(a["data-section"])
        if "data-key" in a:
            self._key, self._text = a["data-key"], []
        for name in self.ATTRS:
            if name in a:
                self.attrs[name].append(a[name])

    def handle_data(self, data):
        if self._key is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._key is not None and tag == "span":
            self.keys.setdefault(self._key, []).append("".join(self._text))
            self._key = None


def lookup(stats: dict, key: str):
    for part in key.split("."):
        stats = stats[part]
    return stats


def expected_keys(stats: dict) -> set[str]:
    """Every count of stats.json the report must show: funnel, stages, rounds, cost."""
    keys = {"requests.total", "tokens.prompt", "tokens.completion", "cost.usd"}
    funnels = [("funnel", stats["funnel"])]
    funnels += [(f"stages.{n}.funnel", s["funnel"]) for n, s in stats.get("stages", {}).items()]
    for prefix, f in funnels:
        keys |= {f"{prefix}.generated", f"{prefix}.kept", f"{prefix}.dropped_total"}
        keys |= {f"{prefix}.dropped.{fi}.{r}" for fi, rs in f["dropped"].items() for r in rs}
    for number, r in stats.get("rounds", {}).items():
        keys |= {f"rounds.{number}.evolved", f"rounds.{number}.survived"}
        keys |= {f"rounds.{number}.eliminated.{rule}" for rule in r["eliminated"]}
    return keys


def shown_equals(text: str, value) -> bool:
    """'3,374', '$0.0000' or '1.1' against the stats value, to the digits shown."""
    if value is None:
        return text == "–"
    digits = len(text.split(".")[1]) if "." in text else 0
    return abs(float(text.replace(",", "").lstrip("$")) - value) <= 0.5 * 10**-digits + 1e-12


@pytest.mark.parametrize("method", list(METHODS))
def test_every_section_is_there_with_the_numbers_of_stats_json(runs, method):
    stats = json.loads((runs[method] / "stats.json").read_text())
    page = Page(write_report(runs[method]).read_text())
    sections = [*SECTIONS[:5], "evol", *SECTIONS[5:]] if method == "evol-instruct" else SECTIONS
    assert page.sections == sections
    missing = expected_keys(stats) - set(page.keys)
    assert not missing
    wrong = {
        k: (shown, lookup(stats, k))
        for k, texts in page.keys.items()
        for shown in texts
        if not shown_equals(shown, lookup(stats, k))
    }
    assert not wrong
    reasons = {f"{fi}.{r}" for fi, rs in stats["funnel"]["dropped"].items() for r in rs}
    assert set(page.attrs["data-drops"]) == reasons  # example drops for every reason


@pytest.mark.parametrize(
    ("method", "scored", "above"),
    [
        ("self-instruct", lambda kept: len(kept), 0),  # the gate's own scores: none above 0.7
        ("unnatural", lambda kept: sum(e["meta"]["stage"] == "core" for e in kept), 0),
        ("evol-instruct", lambda kept: len(kept), None),  # computed; no gate, so any number
    ],
)
def test_similarity_histogram_covers_what_the_method_gates(runs, method, scored, above):
    kept = [json.loads(line) for line in (runs[method] / "kept.jsonl").open()]
    page = Page(build_report([runs[method]]))
    assert page.attrs["data-scored"] == [str(scored(kept))]
    if above is not None:
        assert page.attrs["data-above"] == [str(above)]


def test_evol_lineage_goes_from_the_seed_text_through_every_round(runs, tmp_path):
    html = build_report([runs["evol-instruct"]])
    assert Page(html).attrs["data-lineage"] and set(Page(html).attrs["data-lineage"]) == {"4"}
    assert "seed texts from the built-in seed tasks" in html
    seed = json.loads((runs["evol-instruct"] / "kept.jsonl").open().readline())["meta"]["seed_id"]
    assert f"seed {seed}" in html
    # A starting pool that no longer matches run.json's fingerprint is shown by id only.
    moved = shutil.copytree(runs["evol-instruct"], tmp_path / "moved")
    doc = json.loads((moved / "run.json").read_text())
    doc["config"]["limit"] = 11
    (moved / "run.json").write_text(json.dumps(doc))
    assert "starting pool changed since the run: seeds shown by id" in build_report([moved])


def test_report_is_self_contained_deterministic_and_atomic(runs):
    path = write_report(runs["self-instruct"])
    first = path.read_bytes()
    assert write_report(runs["self-instruct"]).read_bytes() == first
    html = first.decode()
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#)""", html)  # in-page links only
    assert not re.search(r"<link\b|@import|url\(", html)
    assert not list(path.parent.glob(".report.html.*"))  # no temp file left behind


def test_several_runs_side_by_side(runs):
    page = Page(build_report([runs[m] for m in METHODS]))
    assert page.sections[0] == "compare"
    assert page.sections.count("funnel") == 3 and page.sections.count("evol") == 1
    assert page.attrs["data-run"] == list(METHODS)


@pytest.mark.parametrize(
    ("instruction", "verb", "noun"),
    [
        ("Write a short story about a dragon.", "write", "story"),
        ("Given a list of numbers, find the median.", "find", "median"),
        ("Please rewrite the sentence in passive voice.", "rewrite", "sentence"),
        ("Can you suggest three names for a bakery?", "suggest", "name"),
        ("Come up with a slogan for a gym.", "come up", "slogan"),
        ("Alphabetize the words below.", "alphabetize", "word"),
        ("Here is a tweet. Classify its sentiment.", "classify", "sentiment"),
        ("Name the logical fallacy committed in the argument.", "name", "fallacy"),
        ("Write a Python function that sorts a list.", "write", "function"),
        ("Explain how rainbows form.", "explain", NO_OBJECT),
        ("What is the capital of France?", "(question)", NO_OBJECT),
        ("The weather is nice today.", "(other)", NO_OBJECT),
    ],
)
def test_verb_noun_heuristic(instruction, verb, noun):
    found = verb_noun(instruction)
    assert (found.verb, found.noun) == (verb, noun)


@pytest.mark.parametrize(
    ("texts", "vocabulary", "distinct"),
    [
        (["a b c", "a b c d", "", "x"], 5, {1: 5 / 8, 2: 3 / 5, 3: 2 / 3}),
        (["The cat, the CAT!"], 2, {1: 2 / 4, 2: 2 / 3, 3: 2 / 2}),  # rouge-score's tokens
        ([], 0, {1: 0.0, 2: 0.0, 3: 0.0}),
    ],
)
def test_distinct_n(texts, vocabulary, distinct):
    d = diversity(texts)
    assert d.vocabulary == vocabulary
    assert d.distinct == pytest.approx(distinct)


STATS = {"requests": {"total": 214}, "tokens": {"prompt": 1000}, "cost": {"usd": 1.2}}


@pytest.mark.parametrize(
    ("estimate", "shown"),
    [
        (None, "No estimate.json"),
        ({"requests": {"total": {"low": 100, "expected": 200, "high": 300}}}, "<td>yes</td>"),
        ({"requests": 250}, "<td>no</td>"),  # a bare number, under another accepted name
        ({"cost": {"usd": {"low": 1, "expected": 1.5, "high": 2}}}, ">0.80</td>"),
        ({"model": "x"}, "has none of the compared numbers"),
    ],
)
def test_estimate_next_to_the_actual(estimate, shown):
    assert shown in estimate_html(estimate, STATS)


def test_report_shows_a_saved_estimate(runs, tmp_path):
    run_dir = shutil.copytree(runs["unnatural"], tmp_path / "u")
    (run_dir / "estimate.json").write_text(json.dumps({"requests": {"total": 500}}))
    assert 'data-part="estimate"' in build_report([run_dir])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["{si}"], 0, ""),
        (["{si}", "{ev}"], 2, "pass --out FILE for the side-by-side report"),
        (["{si}", "{ev}", "--out", "{tmp}/both.html"], 0, ""),
        (["{tmp}/nothing"], 2, "is not a directory"),
        (["{si}", "--out", "{tmp}/no/such/x.html"], 2, "does not exist"),
    ],
)
def test_cli(runs, tmp_path, capsys, args, code, message):
    paths = {"si": runs["self-instruct"], "ev": runs["evol-instruct"], "tmp": tmp_path}
    assert main(["report", *(a.format(**paths) for a in args)]) == code
    out, err = capsys.readouterr()
    assert message in err
    if code == 0:
        assert Path(out.strip()).read_text().startswith("<!DOCTYPE html>")


# --- in a real browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(request):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run installs Debian's chromium package")
        pytest.skip("no chromium: `apt-get install chromium` (CI installs it) to run this test")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield CHROMIUM
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # shown even when the tests pass
        print(f"\nreport screenshots and print PDF: {ARTIFACTS}")


def open_page(chromium: str, page: Path, profile: Path, *extra: str) -> tuple[str, list[str]]:
    """Load the page headless; returns its DOM after the scripts ran and its console lines."""
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--hide-scrollbars", "--no-first-run", f"--user-data-dir={profile}",
        "--enable-logging=stderr", "--v=0", "--window-size=1280,2400", *extra, page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


@pytest.mark.parametrize(
    ("body", "clean"),
    [
        ("<p>fine</p><script>document.documentElement.setAttribute('data-js','ready')</script>", 1),
        ("<p>broken</p><script>notDefined();</script>", 0),
    ],
)
def test_the_browser_check_sees_script_errors(browser, tmp_path, body, clean):
    page = tmp_path / "page.html"
    page.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>")
    dom, console = open_page(browser, page, tmp_path / "profile", "--dump-dom")
    assert bool('data-js="ready"' in dom and not console) == bool(clean)


@pytest.mark.parametrize("method", list(METHODS))
def test_report_opens_in_a_headless_browser_without_errors(browser, runs, tmp_path, method):
    shot = ARTIFACTS / f"report-{method}.png"
    shot.unlink(missing_ok=True)
    page = write_report(runs[method])
    dom, console = open_page(
        browser, page, tmp_path / "profile", "--dump-dom", f"--screenshot={shot}"
    )
    assert not console
    assert 'data-js="ready"' in dom  # the page's script ran to its end
    assert shot.stat().st_size > 10_000


def test_report_prints(browser, runs, tmp_path):
    pdf = ARTIFACTS / "report-self-instruct.pdf"
    pdf.unlink(missing_ok=True)
    page = write_report(runs["self-instruct"])
    _, console = open_page(browser, page, tmp_path / "profile", f"--print-to-pdf={pdf}")
    assert not console
    assert len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes())) > 1


# --- Prefect artifacts ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prefect_server():
    """test_flow.py's session-wide test server when it is up (it starts in 8-11 s), else one of
    our own."""
    pytest.importorskip("prefect")
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    if PREFECT_API_URL.value():
        yield
        return
    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_summary_is_published_as_prefect_artifacts(prefect_server, runs):
    import asyncio

    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.artifacts import publish_artifacts
    from pipeline.report.summary import artifact_key

    run_dir = runs["unnatural"]
    stats = json.loads((run_dir / "stats.json").read_text())

    @flow(name="publish")
    async def publish() -> list:
        return await publish_artifacts(stats, run_dir)

    async def read() -> dict:
        keys = [artifact_key(run_dir, kind) for kind in ("summary", "funnel")]
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
            )
        return {a.key.rsplit("-", 1)[1]: a for a in found}

    ids = asyncio.run(publish())
    found = asyncio.run(read())
    assert {found["summary"].id, found["funnel"].id} == set(ids)
    assert found["summary"].flow_run_id is not None  # shown on the flow run in the UI
    kept = stats["funnel"]["kept"]
    assert f"unnatural: {kept:,} kept of {stats['funnel']['generated']:,}" in found["summary"].data
    rows = json.loads(found["funnel"].data)
    overall = [r for r in rows if r["stage"] == "all" and r["filter"] != "kept"]
    assert sum(r["count"] for r in overall) == stats["funnel"]["dropped_total"]
    assert {r["stage"] for r in rows} == {"all", "core", "outputs", "reformulations"}
