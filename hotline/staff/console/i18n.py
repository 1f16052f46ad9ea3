"""The console's words through Flask-Babel: Danish first, English as the second catalogue.

The catalogues are the staff catalogue (`routing/wording/staff.yaml`, one source for the command line, the staff
pages and the console): `routing.wording.po` writes it as a gettext `.po` text per language, Babel compiles that
to a `.mo` catalogue in memory the first time a language is asked for, and Flask-Babel's `gettext`/`ngettext`
(`_()` in the templates) look ids up in it. Nothing is generated into the source tree, so a fresh clone and an
installed package have the same words as the YAML file, and a catalogue cannot go stale.
"""

from __future__ import annotations

import functools
from io import BytesIO
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask, session
from flask_babel import Babel, Domain

from routing.wording.catalogue import LANGUAGES, default_catalogue
from routing.wording.po import po_file

DEFAULT_LANGUAGE = LANGUAGES[0]  # Danish
SESSION_KEY = "language"


@functools.cache
def translations(language: str) -> Translations:
    """The staff catalogue in `language` as a compiled gettext catalogue."""
    catalog = read_po(BytesIO(po_file(default_catalogue(), language).encode("utf-8")), locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


class CatalogueDomain(Domain):  # type: ignore[misc]  # flask-babel ships no type information
    """A Flask-Babel domain that reads the staff catalogue instead of `.mo` files on disk."""

    def get_translations(self) -> Any:
        return translations(chosen_language())


class CatalogueBabel(Babel):  # type: ignore[misc]
    @property
    def domain_instance(self) -> Domain:
        return _DOMAIN


_DOMAIN = CatalogueDomain()


def chosen_language() -> str:
    """The language the signed-in person chose (kept in their session), else Danish."""
    chosen = session.get(SESSION_KEY)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def init_babel(app: Flask) -> None:
    CatalogueBabel(app, default_locale=DEFAULT_LANGUAGE, locale_selector=chosen_language)
