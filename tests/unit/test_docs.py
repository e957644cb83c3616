"""The README's settings and error tables are the ones the code defines."""

from ops.docs import README, render
from worker.domain.errors import ERROR_CODES
from worker.settings import FIELDS


def test_readme_tables_match_the_code() -> None:
    text = README.read_text()
    assert render(text) == text, "run `python -m ops.docs` to regenerate the README tables"
    for f in FIELDS:
        assert f"`{f.env}`" in text
    for code in ERROR_CODES:
        assert f"`{code}`" in text
