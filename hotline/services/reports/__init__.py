"""The managers' reports: the dashboard's figures (`dashboard`) and the lists behind them (`lists`), counted by the
database for one period. Callers use this package's names: `reports.figures(...)`, `reports.drill_page(...)`."""

from hotline.services.reports.dashboard import Figures, Kept, TextAnswer, figures
from hotline.services.reports.lists import (
    PAGE_SIZE,
    Drill,
    Row,
    details_of,
    drill_count,
    drill_page,
    drill_rows,
)

__all__ = [
    "PAGE_SIZE",
    "Drill",
    "Figures",
    "Kept",
    "Row",
    "TextAnswer",
    "details_of",
    "drill_count",
    "drill_page",
    "drill_rows",
    "figures",
]
