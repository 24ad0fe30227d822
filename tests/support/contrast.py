"""WCAG 2 text contrast, measured in the browser from the computed colours of a page's text.

Each visible element that holds text of its own gets its colour composited over its background, which is
every background from <html> down to it laid one over the other (Atlassian's tokens include translucent
ones), and the ratio (L1 + 0.05) / (L2 + 0.05) of WCAG 2's relative luminances.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

# For every element under `root` with text of its own (disabled controls aside, which WCAG exempts):
# {where, text, color, background, ratio}.
_MEASURE = """
(root) => {
  const parse = (css) => {
    const m = css.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const [r, g, b, a = 1] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [r, g, b, a];
  };
  const over = ([r, g, b, a], [R, G, B]) => [r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a)];
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (element) => {
    const chain = [];
    for (let e = element; e; e = e.parentElement) chain.unshift(e);
    let rgb = [255, 255, 255];
    for (const e of chain) rgb = over(parse(getComputedStyle(e).backgroundColor), rgb);
    return rgb;
  };
  const where = (e) => e.id ? `#${e.id}` : `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`;
  const found = [];
  for (const element of root.querySelectorAll("*")) {
    const own = [...element.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("");
    if (!own.trim() || !element.getClientRects().length || element.closest("[disabled]")) continue;
    const style = getComputedStyle(element);
    if (style.visibility === "hidden" || element.closest(".visually-hidden")) continue;
    const back = background(element);
    const fore = over(parse(style.color), back);
    const [l1, l2] = [luminance(fore), luminance(back)].sort((a, b) => b - a);
    found.push({
      where: where(element),
      text: own.trim().slice(0, 40),
      color: style.color,
      background: `rgb(${back.map(Math.round).join(", ")})`,
      ratio: Math.round(((l1 + 0.05) / (l2 + 0.05)) * 100) / 100,
    });
  }
  return found;
}
"""


def text_contrasts(page: Page, root: str = "body") -> list[dict[str, Any]]:
    """The contrast of every visible text of the page under `root`, as measured by _MEASURE."""
    measured: list[dict[str, Any]] = page.locator(root).evaluate(_MEASURE)
    assert measured, "no text was measured"
    return measured


def page_background_luminance(page: Page) -> float:
    """The relative luminance of the page's own background (0 black .. 1 white)."""
    rgb = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    r, g, b = (int(v) for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])

    def linear(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
