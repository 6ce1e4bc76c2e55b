"""How `complaintflow cases` prints a case's summary: plain text, one line, nothing a terminal
would act on, whoever wrote it."""

from hypothesis import given
from hypothesis import strategies as st

from complaintflow.cases import plain_summary
from complaintflow.workflows.case.visibility import md

TERMINAL_CONTROLS = {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))} | {
    "\u2028", "\u2029", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}  # fmt: skip


@given(st.text(max_size=200))
def test_a_summary_prints_as_one_plain_line(text: str) -> None:
    shown = plain_summary(text)
    assert not set(shown) & TERMINAL_CONTROLS, repr(shown)


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf")), max_size=80
    )
)
def test_the_web_uis_markdown_escapes_read_back_as_written(text: str) -> None:
    assert plain_summary(md(text)) == text
