"""expression_builder.py: the values built as the parser reduces each rule, and the mistakes in
values (not in syntax) located at the span of the text that holds them."""

from __future__ import annotations

import pytest

from reqsolve.errors import InvalidExpression
from reqsolve.expression_builder import MAX_ALTERNATIVES, Builder, Located, Piece
from reqsolve.parser import parse
from reqsolve.requirement import Alternative, Requirement


@pytest.mark.parametrize(
    ("text", "underlined", "words"),
    [
        ("cpu(cores=0)", "0", "cores"),
        ("cpu(cores=4) & duration=90:00", "90:00", "ambiguous"),
        ("cuda(mem=4G, mem=8G)", "mem=8G", "given twice"),
        ("cuda(mem=4G)*0", "0", "GPU"),
        ("cuda(mem=4G)*99999999999999999999", "99999999999999999999", "over"),
        ("cpu(mem=4Q)", "4Q", ""),
    ],
)
def test_a_wrong_value_is_underlined_where_it_is_written(
    text: str, underlined: str, words: str
) -> None:
    with pytest.raises(InvalidExpression) as caught:
        parse(text)
    span = caught.value.span
    assert text[span.start : span.end] == underlined
    assert words in str(caught.value)


@pytest.mark.parametrize("count", [MAX_ALTERNATIVES + 1, MAX_ALTERNATIVES * 2])
def test_too_many_alternatives_are_refused_over_the_whole_span(count: int) -> None:
    one = Piece(Requirement((Alternative(duration=60),)), 0, 5)
    pieces = [Piece(one.value, 6 * i, 6 * i + 5) for i in range(count)]
    with pytest.raises(Located) as caught:
        Builder().alternatives(pieces)
    assert (caught.value.start, caught.value.end) == (0, 6 * (count - 1) + 5)
    assert f"at most {MAX_ALTERNATIVES}" in caught.value.message
