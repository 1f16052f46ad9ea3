"""What the browser walks share: signing in through the form, axe-core's WCAG 2.1 A/AA check, and where
screenshots go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, ViewportSize

from tests.helpers import REPO, STAFF_PASSWORD

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
ARTIFACTS = REPO / "artifacts"  # screenshots to look at after a run; git-ignored
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE: ViewportSize = {
    "width": 360,
    "height": 740,
}  # the phone every walk is sized for, unless it says otherwise


def sign_in(page: Page, username: str, password: str = STAFF_PASSWORD) -> None:
    """Fill in the console's sign-in form on `page` and press the button."""
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page (evaluated through DevTools, which the page's CSP does
    not govern: the page itself may run no script but its own)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => window.axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]
