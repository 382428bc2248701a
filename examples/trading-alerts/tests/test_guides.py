"""The guides' code is this package's code: every ``python`` and ``toml`` block of
examples/writing-a-plugin.md and examples/breaking-changes-cookbook.md is preceded by
``<!-- snippet: <path>#<name> -->`` and equals the lines between ``--8<-- [start:<name>]`` and
``--8<-- [end:<name>]`` in that file (the marker syntax of pymdownx.snippets), dedented. So the
guides show code that runs and is tested, and a change to the code that the guides do not follow
fails here.

``python examples/trading-alerts/tests/test_guides.py`` copies the snippets into the guides.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2]
GUIDES = [EXAMPLES / "writing-a-plugin.md", EXAMPLES / "breaking-changes-cookbook.md"]
# A block that must come from the code: its marker, then the fenced block.
SNIPPET = re.compile(r"<!-- snippet: (?P<path>[^#\s]+)#(?P<name>[\w-]+) -->\n```(?P<lang>\w+)\n(?P<code>.*?)```", re.S)
CHECKED_LANGUAGES = ("python", "toml")


def snippet(path: str, name: str) -> str:
    source = (EXAMPLES / path).read_text()
    found = re.search(rf"^[ \t]*# --8<-- \[start:{name}\]\n(.*?)^[ \t]*# --8<-- \[end:{name}\]\n", source, re.S | re.M)
    if found is None:
        raise AssertionError(f"{path} has no snippet {name!r} (# --8<-- [start:{name}] ... # --8<-- [end:{name}])")
    return textwrap.dedent(found.group(1)).strip("\n") + "\n"


def filled(guide: str) -> str:
    """The guide with each snippet's block replaced by the code it names."""
    return SNIPPET.sub(
        lambda m: f"<!-- snippet: {m['path']}#{m['name']} -->\n```{m['lang']}\n{snippet(m['path'], m['name'])}```",
        guide,
    )


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_each_code_block_of_the_guide_is_the_code(guide: Path) -> None:
    text = guide.read_text()
    snippets = list(SNIPPET.finditer(text))
    assert snippets, f"{guide.name} shows no code from the package"
    for match in snippets:
        assert match["code"] == snippet(match["path"], match["name"]), (
            f"{guide.name}: the block {match['path']}#{match['name']} differs from the code; "
            "run python examples/trading-alerts/tests/test_guides.py to copy the code in"
        )
    # Every Python or TOML block is one of them: no code in the guides that nothing runs.
    marked = {m.start("lang") for m in snippets}
    for block in re.finditer(r"```(?P<lang>\w+)\n", text):
        if block["lang"] in CHECKED_LANGUAGES and block.start("lang") not in marked:
            line = text.count("\n", 0, block.start()) + 1
            if "[modules.alerts]" not in text[block.end() : block.end() + 40]:  # a configuration, not code
                raise AssertionError(f"{guide.name}:{line}: a {block['lang']} block without a snippet marker")


if __name__ == "__main__":
    for guide in GUIDES:
        guide.write_text(filled(guide.read_text()))
        print(f"copied the snippets into {guide}")
