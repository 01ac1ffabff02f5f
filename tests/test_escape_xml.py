"""The XML escapes (written without xml.sax, which imports urllib at start-up) match xml.sax.saxutils exactly."""

from __future__ import annotations

from xml.sax import saxutils

from hypothesis import given
from hypothesis import strategies as st

from leadjourney.escape import xml_attribute, xml_escaped, xml_text

TEXT = st.text(alphabet=st.sampled_from(list("ab &<>\"'\t\n\r\x00\x01é€")), max_size=30)


@given(TEXT)
def test_as_saxutils(value: str) -> None:
    assert xml_escaped(value) == saxutils.escape(xml_text(value))
    assert xml_attribute(value) == saxutils.quoteattr(xml_text(value))


def test_examples() -> None:
    assert xml_attribute('say "hi" & it\'s <b>') == '"say &quot;hi&quot; &amp; it\'s &lt;b&gt;"'
    assert xml_attribute('a "b"') == "'a \"b\"'"
    assert xml_attribute("tab\there\nline") == '"tab&#9;here&#10;line"'
