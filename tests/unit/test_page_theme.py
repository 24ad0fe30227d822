"""The page's colours (local/page/theme.css): each one of Atlassian's design tokens with, as fallbacks, the
values of Atlassian's published light and dark themes, read here from @atlaskit/tokens in forge/'s
packages (as pinned in forge/package-lock.json); and no colour anywhere else in the page's CSS."""

from __future__ import annotations

import re

import pytest

from tests.support.forge import FORGE
from tests.support.harness import REPO

PAGE = REPO / "local" / "page"
THEMES = FORGE / "node_modules" / "@atlaskit" / "tokens" / "dist" / "esm" / "artifacts" / "themes"
DECLARATION = re.compile(r"--([\w-]+):\s*var\(--ds-([\w-]+),\s*(#[0-9A-Fa-f]+)\)")
COLOUR = re.compile(r"#[0-9A-Fa-f]{3,8}\b|\brgba?\(|\bhsla?\(")


def atlassian_theme(name: str) -> dict[str, str]:
    """token -> value (upper case) of one of Atlassian's themes."""
    path = THEMES / f"{name}.js"
    if not path.is_file():
        pytest.fail("forge/'s npm packages are needed: `make forge-resource` installs them.", pytrace=False)
    return {
        token: value.upper()
        for token, value in re.findall(r"--ds-([\w-]+): (#[0-9A-Fa-f]+);", path.read_text())
    }


def blocks() -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """theme.css's light block, its dark block under prefers-color-scheme, its dark block under
    data-color-mode, each as (name, token, fallback)."""
    css = (PAGE / "theme.css").read_text()
    media = css.index("@media (prefers-color-scheme: dark)")
    attribute = css.index(':root[data-color-mode="dark"]')
    return (
        DECLARATION.findall(css[:media]),
        DECLARATION.findall(css[media:attribute]),
        DECLARATION.findall(css[attribute:]),
    )


def test_every_fallback_is_atlassians_own_value_of_its_token() -> None:
    light, dark_by_system, _ = blocks()
    assert len(light) >= 20
    light_values, dark_values = atlassian_theme("atlassian-light"), atlassian_theme("atlassian-dark")
    assert [(token, value.upper()) for _, token, value in light] == [
        (token, light_values.get(token)) for _, token, _ in light
    ]
    assert [(token, value.upper()) for _, token, value in dark_by_system] == [
        (token, dark_values.get(token)) for _, token, _ in dark_by_system
    ]


def test_both_ways_to_the_dark_theme_give_the_same_colours_for_every_name() -> None:
    light, dark_by_system, dark_by_jira = blocks()
    assert dark_by_system == dark_by_jira
    assert [name for name, _, _ in dark_by_system] == [name for name, _, _ in light]


def test_no_colour_is_written_outside_the_theme() -> None:
    css = (PAGE / "styles.css").read_text()
    assert not COLOUR.findall(css)
    used = set(re.findall(r"var\(--([\w-]+)\)", css))
    light, _, _ = blocks()
    assert used <= {name for name, _, _ in light}, used - {name for name, _, _ in light}
