"""Phone first, in Chromium: every customer page and the main visitor pages, at 390 px
and at 1280 px, in English and in French, signed in as a customer with devices,
sessions, a legal hold they may be told of and a disclosure.

A page fails when it scrolls sideways (the document, or a box inside it, is wider
than what shows: the elements that stick out are named), when the erase date (or
"held") on /logs/ is not on screen, when axe finds a serious or critical problem, or
when it shows a raw registry key (legal_holds) to people.
One browser, one context per language: the visitor pages first, then signed in.

With SCREENSHOTS_DIR set (`SCREENSHOTS_DIR=.local/screenshots`), it also saves
full-page PNGs of the dashboard, /logs/ and /devices/ at both widths in both
languages (`dashboard-390-en.png`, ...)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accesslogs.tests.factories import CollectorFactory, sessions_record
from accounts.data_requests import data_request_file
from accounts.services import profile_update
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from cloudportal.privacy import categories
from cloudportal.tests.test_accessibility import _serious
from compliance.tests.factories import DisclosureFactory, LegalHoldFactory
from devices.services import device_add
from exports.services import export_request
from policies.services import statement_accept
from policies.tests.factories import PublishedVersionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1280)
VISITOR_PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/privacy/"]
CUSTOMER_PAGES = [
    "/",
    "/logs/",
    "/devices/",
    "/me/",
    "/me/edit/",
    "/accounts/2fa/totp/activate/",  # right after /me/edit/: within the re-authentication's 5 minutes
    "/accounts/2fa/webauthn/add/",
    "/me/preferences/",
    "/me/data/",
    "/me/activity/",
    "/me/requests/",
    "/me/disclosures/",
    "/me/acceptances/",
    "/me/export/",
    "/me/delete/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/sessions/",
    "/privacy/",
    "/privacy/versions/",
    "/privacy/diff/1.0/2.0/",
    "/privacy/accept/",
]
SCREENSHOT_PAGES = {"/": "dashboard", "/logs/": "logs", "/devices/": "devices"}
PHONE, TABLET, LAPTOP = "02:1A:2B:3C:4D:01", "00:1A:2B:3C:4D:02", "00:1A:2B:3C:4D:03"

#: What sticks out: the document wider than the window, or a box on screen whose
#: content is wider than the box and scrolls (a table in its wrapper). The innermost
#: elements past the right edge are named, so a failure says what to fix.
OVERFLOW_JS = """() => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
    + ' "' + (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40) + '"';
  const sticking = (root, right) => {
    const found = [];
    for (const el of root.querySelectorAll('*')) {
      const box = el.getBoundingClientRect();
      // Past the edge: the box, or its content (a word too long for it).
      const reach = (e) => Math.max(e.getBoundingClientRect().right, e.getBoundingClientRect().left + e.scrollWidth);
      const out = (e) => reach(e) > right + 1;
      if (box.width && out(el) && ![...el.children].some(out)) {
        found.push(name(el) + ' right=' + Math.round(reach(el)));
      }
    }
    return found.slice(0, 6);
  };
  const problems = [];
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth > width) {
    problems.push('the page is ' + document.documentElement.scrollWidth + ' px wide in ' + width + ': '
      + sticking(document.body, width).join('; '));
  }
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    // Not what shows: the content of a closed <details> (the charts' numbers) is not on screen.
    if (!el.checkVisibility()) continue;
    if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      problems.push(name(el) + ' scrolls sideways (' + el.scrollWidth + ' px in ' + el.clientWidth + '): '
        + sticking(el, el.getBoundingClientRect().right).join('; '));
    }
  }
  return problems;
}"""

#: The erase date (or "held") of each session on /logs/ is displayed and within
#: the window and within every box that could clip it.
ERASE_DATE_JS = """() => {
  const cells = [...document.querySelectorAll('table.sessions tbody tr > td:last-child')];
  if (!cells.length) return ['no erase-date cell on the page'];
  const problems = [];
  for (const cell of cells) {
    const box = cell.getBoundingClientRect();
    let visible = cell.checkVisibility({checkVisibilityCSS: true}) && box.width > 0
      && box.left >= 0 && box.right <= window.innerWidth + 1;
    for (let el = cell.parentElement; visible && el; el = el.parentElement) {
      if (getComputedStyle(el).overflowX !== 'visible') {
        const clip = el.getBoundingClientRect();
        visible = box.left >= clip.left - 1 && box.right <= clip.right + 1;
      }
    }
    if (!visible) problems.push('erase date "' + cell.textContent.trim() + '" not on screen: left='
      + Math.round(box.left) + ' right=' + Math.round(box.right) + ' in ' + window.innerWidth);
  }
  return problems.slice(0, 3);
}"""


def _raw_keys() -> list[str]:
    """The privacy registry's keys that read as code (legal_holds, access_logs)."""
    return [category.key for category in categories() if "_" in category.key]


def _customer(language: str):
    """A customer with what every page can show: devices (one randomised), sessions
    over two months at a site with a long address, some under a hold they may be told
    of, a disclosure, a data request, a ready export and a statement to accept."""
    customer = VerifiedUserFactory(language=language)
    profile_update(
        user=customer, actor=customer, data={"full_name": "Ada Lovelace-Byron", "iban": "FR1420041010050500013M02606"}
    )
    device_add(user=customer, mac=PHONE, label="Ada’s phone")
    device_add(user=customer, mac=TABLET, label="Tablet in the living room")
    device_add(user=customer, mac=LAPTOP, label="")
    now = timezone.now()
    rows = [
        {
            "mac": mac,
            "ip": f"2001:db8:85a3::8a2e:370:{n:04x}" if n % 3 else f"198.51.100.{n}",
            "site": "Gare Saint-Lazare, hall des Pas-Perdus" if n % 2 else "Café de la Paix",
            "site_address": "13 rue d’Amsterdam, 75008 Paris" if n % 2 else "5 place de l’Opéra, 75009 Paris",
            "started_at": now - timedelta(days=2 * n + 1, hours=n),
            "ended_at": now - timedelta(days=2 * n + 1, hours=n) + timedelta(hours=3, minutes=17),
            "bytes_in": 1_234_567_890 * (n + 1),
            "bytes_out": 98_765_432 * (n + 1),
        }
        for n, mac in enumerate([PHONE, TABLET, LAPTOP] * 5)
    ]
    sessions_record(CollectorFactory(), rows)
    LegalHoldFactory(mac=TABLET, customer_may_be_told=True, starts_at=now - timedelta(days=20), ends_at=None)
    DisclosureFactory(customer=customer)
    data_request_file(user=customer, kind="information", message="Which sites have my sessions?")
    export_request(user=customer)  # built at once: tasks run in-process
    return customer


def _statements(customer) -> None:
    """1.0 accepted by the customer, 2.0 (not material) in force since yesterday:
    the diff and the accept page have something to show, and no gate stops a page."""
    old = PublishedVersionFactory(
        version="1.0",
        effective_at=timezone.now() - timedelta(days=60),
        body="## Logs\n\n- We keep each session 12 months.\n- Sites are named.",
        body_fr="## Journaux\n\n- Nous conservons chaque session 12 mois.\n- Les sites sont nommés.",
    )
    PublishedVersionFactory(
        version="2.0",
        body="## Logs\n\n- We keep each session 6 months.\n- Sites are named.\n- Devices are listed.",
        body_fr="## Journaux\n\n- Nous conservons chaque session 6 mois.\n- Les sites sont nommés.\n"
        "- Les appareils sont listés.",
        changelog="Sessions kept for 6 months.",
        changelog_fr="Sessions conservées 6 mois.",
    )
    statement_accept(user=customer, version=old, ip_address=None, user_agent="test")


def _check(page, url: str, path: str, *, language: str, shots: Path | None = None) -> list[str]:
    """What is wrong with `path` at each width; `shots`: where to save its screenshots."""
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        response = page.goto(url + path)
        where = f"{path} at {width} px ({language})"
        if response is None or response.status != 200 or page.url.split("?")[0] != url + path:
            problems.append(f"{where}: answered {response and response.status} at {page.url}")
            continue
        problems += [f"{where}: {p}" for p in page.evaluate(OVERFLOW_JS)]
        if path == "/logs/":
            problems += [f"{where}: {p}" for p in page.evaluate(ERASE_DATE_JS)]
        problems += [f"{where}: {p}" for p in _serious(page)]
        if width == WIDTHS[0]:
            text = page.evaluate("document.body.innerText")
            problems += [f"{where}: shows the raw key {key}" for key in _raw_keys() if re.search(rf"\b{key}\b", text)]
        if shots is not None and path in SCREENSHOT_PAGES:
            page.screenshot(path=shots / f"{SCREENSHOT_PAGES[path]}-{width}-{language}.png", full_page=True)
    return problems


def _check_menu(page, url: str) -> None:
    """On a phone the navigation is a menu that opens; on a desk it shows in full,
    with no menu to open, and the current section marked."""
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{url}/devices/")
    nav = page.locator("nav.main-nav")
    links = nav.locator(".nav-sections a")
    expect(links.first).to_be_hidden()
    nav.locator("summary").click()
    expect(links).to_have_count(9)
    for n in range(9):
        expect(links.nth(n)).to_be_visible()
    expect(nav.locator(".nav-account button")).to_be_visible()  # sign out
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{url}/accounts/email/")
    expect(nav.locator("summary")).to_be_hidden()
    for n in range(9):
        expect(links.nth(n)).to_be_visible()
    expect(nav.locator('.nav-account a[aria-current="page"]')).to_be_visible()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_page_scrolls_sideways_and_the_erase_date_shows(page, portal, language):
    shots = Path(os.environ["SCREENSHOTS_DIR"]) if os.environ.get("SCREENSHOTS_DIR") else None
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    customer = _customer(language)
    _statements(customer)
    page.context.add_cookies([{"name": "cloudportal_language", "value": language, "url": portal.url}])

    problems = []
    for path in VISITOR_PAGES:
        problems += _check(page, portal.url, path, language=language)

    page.goto(f"{portal.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("#id_login").fill(customer.email)
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.locator('form[action$="/accounts/login/"] button[type="submit"]').first.click()
    expect(page).to_have_url(f"{portal.url}/")
    # /me/edit/ (the ID number and IBAN in clear) asks for the password again first.
    page.goto(f"{portal.url}/me/edit/")
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.locator("main form button[type='submit']").first.click()
    expect(page).to_have_url(f"{portal.url}/me/edit/")

    for path in CUSTOMER_PAGES:
        problems += _check(page, portal.url, path, language=language, shots=shots)
    _check_menu(page, portal.url)
    assert problems == [], "\n".join(problems)
