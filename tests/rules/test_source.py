"""Problems with the YAML file itself are located and explained, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from complaintflow.errors import PolicyError
from complaintflow.rules.source import MAX_FILE_BYTES, load_yaml, parse_yaml


def diagnostics_of(raw: bytes) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_yaml(raw, "p.yaml")
    return [str(d) for d in caught.value.diagnostics]


class TestFileProblems:
    def test_duplicate_key_names_both_lines(self) -> None:
        """A key written twice is reported where it repeats, naming the first one."""
        found = diagnostics_of(b"policy: a\nversion: 1\npolicy: b\n")
        assert found == ["p.yaml:3:1: duplicate key 'policy' (first at line 1); keep one of them"]

    def test_tab_indentation(self) -> None:
        """Tabs used for indentation get a message that says to use spaces."""
        found = diagnostics_of(b"brand:\n\tname: x\n")
        assert len(found) == 1
        assert found[0].startswith("p.yaml:2:1: ")
        assert "tab character" in found[0] and "indent with spaces" in found[0]

    def test_not_utf8_points_at_the_byte(self) -> None:
        """A byte that is not UTF-8 is located by line and column."""
        found = diagnostics_of(b"policy: a\nversion: \xff1\n")
        assert found == ["p.yaml:2:10: byte 0xff is not valid UTF-8; save the file as UTF-8"]

    @pytest.mark.parametrize("raw", [b"", b"   \n\n", b"# only a comment\n"])
    def test_empty_file(self, raw: bytes) -> None:
        """An empty (or comment-only) file says so and how a policy starts."""
        assert diagnostics_of(raw) == [
            "p.yaml:1:1: the file is empty; a policy starts with `policy: NAME`"
        ]

    def test_several_documents(self) -> None:
        """A second document is refused at the line it starts."""
        found = diagnostics_of(b"policy: a\n---\npolicy: b\n")
        assert found == [
            "p.yaml:3:1: the file holds more than one YAML document ('---'); "
            "put one policy per file"
        ]

    def test_huge_file(self) -> None:
        """A file over the size limit is refused before parsing."""
        found = diagnostics_of(b"# " + b"x" * (10 * 1024 * 1024) + b"\n")
        assert len(found) == 1
        assert found[0].startswith("p.yaml:1:1: the file is 10.5 MB")

    def test_alias_bomb_is_stopped(self) -> None:
        """Nested aliases that would expand to millions of values are refused."""
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in range(1, 9):
            lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
        found = diagnostics_of("\n".join(lines).encode())
        assert len(found) == 1
        assert "expands to more than" in found[0]

    def test_recursive_alias(self) -> None:
        """An alias inside its own anchor is reported, not followed forever."""
        found = diagnostics_of(b"a: &x\n  b: *x\n")
        assert any("contains itself" in f for f in found)

    def test_non_text_key(self) -> None:
        """`on:` is read by YAML as a boolean key; the hint says to quote it."""
        found = diagnostics_of(b"policy: a\non: 1\n")
        assert found == ["p.yaml:2:1: key 'on' is not text; quote it: \"on\""]

    def test_syntax_error_is_located(self) -> None:
        """A YAML syntax error keeps YAML's position."""
        found = diagnostics_of(b"policy: a\nversion: [1, 2\n")
        assert len(found) == 1 and found[0].startswith("p.yaml:3:1: not valid YAML")

    def test_missing_file(self, tmp_path: Path) -> None:
        """A path that does not exist is a located error, not an exception."""
        with pytest.raises(PolicyError) as caught:
            load_yaml(tmp_path / "nope.yaml")
        assert "cannot read the file" in str(caught.value)

    def test_limit_is_one_mebibyte(self) -> None:
        assert MAX_FILE_BYTES == 1024 * 1024


class TestPositions:
    def test_values_and_keys_keep_their_positions(self) -> None:
        """Every value and key records where it starts (1-based)."""
        doc = parse_yaml(b"a:\n  b: [1, {c: x}]\n", "p.yaml")
        assert doc.data == {"a": {"b": [1, {"c": "x"}]}}
        assert (doc.at(("a", "b")).line, doc.at(("a", "b")).column) == (2, 6)
        assert (doc.at(("a", "b", 1, "c")).line, doc.at(("a", "b", 1, "c")).column) == (2, 14)
        key = doc.at(("a", "b"), key=True)
        assert (key.line, key.column) == (2, 3)
