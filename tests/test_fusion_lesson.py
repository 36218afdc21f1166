"""docs/fusion.md, the compiler's passes as a lesson (issue #36), shows the plans the code
prints today: each stage's diff is made again here and must be on the page."""

from benchmarks import fusion_lesson


def test_the_page_shows_every_pass_s_change_as_the_code_prints_it():
    text = fusion_lesson.PAGE.read_text()
    found = fusion_lesson.sections()
    assert len(found) == len(fusion_lesson.ORDER) + 1
    for title, kind, block in found:
        assert f"## {title}\n\n```{kind}\n{block}\n```" in text, title
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == len(fusion_lesson.ORDER) + 1  # a row of times per stage
    assert all(f"`{name}`" in row for name, row in zip(fusion_lesson.ORDER, rows[1:]))
    assert "(`fuse=True`)" in rows[len(fusion_lesson.ORDER) - 1]


def test_each_pass_changes_the_printed_plan():
    """A pass that changed nothing would teach nothing: every diff has lines."""
    for title, _, block in fusion_lesson.sections()[1:]:
        assert any(line.startswith(("+ ", "- ")) for line in block.splitlines()), title
