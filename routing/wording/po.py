"""The catalogue as gettext `.po` files, the form Flask-Babel reads (`translations/<lang>/LC_MESSAGES/`).

The message id is the msgid, the text in the language is the msgstr; a plural entry has msgid_plural (the id
again) and both forms. Flask-Babel's `gettext(id, **values)` and `ngettext(id, id, num, **values)` then give
what `wording.text` gives: both fill `%(name)s` placeholders with `%`. `python -m routing.wording.po DIR` writes `DIR/da/LC_MESSAGES/messages.po` and the English one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from routing.wording.catalogue import LANGUAGES, PLURAL_FORMS, Catalogue, default_catalogue

PLURAL_HEADER = "nplurals=2; plural=(n != 1);"  # Danish and English alike


def _quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def po_file(catalogue: Catalogue, language: str) -> str:
    """The whole catalogue in `language` as the text of a `.po` file."""
    lines = [
        'msgid ""',
        'msgstr ""',
        _quoted(f"Language: {language}\n"),
        _quoted("MIME-Version: 1.0\n"),
        _quoted("Content-Type: text/plain; charset=UTF-8\n"),
        _quoted("Content-Transfer-Encoding: 8bit\n"),
        _quoted(f"Plural-Forms: {PLURAL_HEADER}\n"),
    ]
    for entry in catalogue.entries.values():
        lines.append("")
        if entry.note:
            lines += [f"#. {line}" for line in entry.note.splitlines()]
        if entry.placeholders:  # not flagged python-format: gettext would compare them with the msgid, an id
            lines.append("#. values: " + ", ".join(f"%({name})s" for name in sorted(entry.placeholders)))
        lines.append(f"msgid {_quoted(entry.message_id)}")
        chosen = entry.texts[language]
        if isinstance(chosen, str):
            lines.append(f"msgstr {_quoted(chosen)}")
        else:
            lines.append(f"msgid_plural {_quoted(entry.message_id)}")
            lines += [f"msgstr[{n}] {_quoted(chosen[form])}" for n, form in enumerate(PLURAL_FORMS)]
    return "\n".join(lines) + "\n"


def write_po_files(catalogue: Catalogue, folder: Path) -> list[Path]:
    """`folder/<lang>/LC_MESSAGES/messages.po` for each language; the paths written."""
    written = []
    for language in LANGUAGES:
        path = folder / language / "LC_MESSAGES" / "messages.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(po_file(catalogue, language), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a developer's tool
    if len(sys.argv) != 2:
        sys.exit("usage: python -m routing.wording.po FOLDER  (writes FOLDER/<lang>/LC_MESSAGES/messages.po)")
    for written_path in write_po_files(default_catalogue(), Path(sys.argv[1])):
        print(written_path)
