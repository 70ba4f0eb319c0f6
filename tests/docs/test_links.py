"""The docs hold together: every relative link points at a file that exists and, with a #fragment,
at a heading it has; the README stays short and links each audience to its page."""

from __future__ import annotations

import re
from pathlib import Path

from tests.docs_text import DOCS, REPO

PAGES = [REPO / "README.md", REPO / "CHANGELOG.md", *sorted(DOCS.rglob("*.md"))]
AUDIENCES = ["integrators.md", "auditors.md", "protocol.md", "operations.md", "contributors.md"]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, no punctuation, spaces as hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    found = set()
    for line in _FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        if not line.startswith("#"):
            continue
        slug = re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in _LINK.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file):
            broken.append(f"{target}: no heading #{fragment} in {file.name}")
    return broken


def test_every_relative_link_and_anchor_resolves():
    broken = {f"{p.relative_to(REPO)}: {b}" for p in PAGES for b in broken_links(p)}
    assert not broken, "\n".join(sorted(broken))


def test_the_readme_is_short_and_links_each_audience_to_its_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    linked = {Path(t.partition("#")[0]).name for t in _LINK.findall(readme)}
    assert set(AUDIENCES) <= linked, f"not linked: {sorted(set(AUDIENCES) - linked)}"


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "a.md").write_text("# A page\n\n## Step 1. The unit's view\n")
    page = tmp_path / "b.md"
    page.write_text(
        "[ok](a.md#step-1-the-units-view) [ok](#b) [gone](c.md) [no](a.md#nope) [web](https://x.y)\n"
        "# B\n```\n[in code](d.md)\n```\n"
    )
    assert broken_links(page) == ["c.md: no such file", "a.md#nope: no heading #nope in a.md"]
