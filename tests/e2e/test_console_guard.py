"""The guard the journeys rely on sees what it must: a CSP violation and a JS error on a portal page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_the_guard_reports_csp_violations_and_js_errors(journey, stack):
    page = journey.page()
    page.goto(f"{stack.url}/impact/")
    response = page.request.get(f"{stack.url}/impact/")
    assert "script-src 'self'" in response.headers["content-security-policy"]

    # What a careless template would do: an inline script, a style attribute, a throwing handler.
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true;";
            document.body.appendChild(script);
            document.querySelector("main").setAttribute("style", "color: red");
            setTimeout(() => { throw new Error("boom from a static file"); }, 0);
        }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.inlineRan === undefined")  # the browser did block it
    seen = "\n".join(journey.problems)
    assert "CSP violation: script-src" in seen, seen
    assert "CSP violation: style-src" in seen, seen
    assert "JS error: boom from a static file" in seen, seen
    journey.problems.clear()  # seen on purpose; the fixture's final check stays for real pages
