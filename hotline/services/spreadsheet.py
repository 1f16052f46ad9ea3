"""CSV as staff open it: in a spreadsheet. UTF-8 with a BOM (so Danish letters survive Excel), CRLF lines, and
cells that a spreadsheet would run as a formula defused with a leading apostrophe (CSV injection: a username typed
at the sign-in page, or a relative's text, could otherwise start with `=HYPERLINK(...)`). A phone number such as
`+4567123456` is left as it is: a sign followed by digits is a number to a spreadsheet, not a formula."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence

_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?![\d ]+$)")


def cell(value: object) -> object:
    """`value` as it may go into a cell: a text a spreadsheet would evaluate gets a leading apostrophe."""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    """`rows` under a header of `columns`, each cell made safe, with the BOM."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({name: cell(value) for name, value in row.items()} for row in rows)
    return "\ufeff" + text.getvalue()
