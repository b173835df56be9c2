"""The statement diff, as people read it: list items and sentences compared one by
one, changed words marked inside a changed passage, markup kept whole and safe."""

from html.parser import HTMLParser

from django.utils import translation

from policies.diff import statement_diff

from .diffs import marked

LIST = """## What we hold

- **Your account**: email addresses and password hash.
- **Your devices**: MAC address and label.
- **Access logs**: sessions on our network."""


def kinds(blocks) -> list[str]:
    return [block.kind if block is not None else "cut" for block in blocks]


def html_of(blocks) -> str:
    return "".join(str(block.html) for block in blocks if block is not None)


def test_adding_one_item_to_a_tight_list_marks_only_that_item():
    new = LIST.replace(
        "- **Access logs**", "- **Your preferences**: the emails you want and your language.\n- **Access logs**"
    )
    blocks = statement_diff(old=LIST, new=new)
    assert kinds(blocks) == ["same", "added", "same"]
    [added] = [block for block in blocks if block.kind == "added"]
    assert "Your preferences" in added.html and "Your devices" not in added.html
    # The items around it are shown as they were, unmarked.
    assert marked(html_of(blocks), "del") == [] and marked(html_of(blocks), "ins") == []
    assert "Your devices" in blocks[0].html and "Access logs" in blocks[2].html


def test_removing_one_item_marks_only_that_item():
    new = LIST.replace("- **Your devices**: MAC address and label.\n", "")
    assert kinds(statement_diff(old=LIST, new=new)) == ["same", "removed", "same"]


def test_a_changed_phrase_marks_the_changed_words_inside_the_sentence():
    old = "## Logs\n\nWe keep each session for 12 months, then erase it. We disclose logs only when the law says so."
    new = "## Logs\n\nWe keep each session for 6 months, then erase it. We disclose logs only when the law says so."
    blocks = statement_diff(old=old, new=new)
    assert kinds(blocks) == ["same", "changed"]
    changed = blocks[1].html
    assert marked(changed, "del") == ["12"] and marked(changed, "ins") == ["6"]
    assert "We keep each session for" in changed and "then erase it." in changed


def test_a_changed_item_in_a_list_is_marked_inside_that_item_only():
    new = LIST.replace("MAC address and label.", "MAC address, label and the date you added it.")
    blocks = statement_diff(old=LIST, new=new)
    assert kinds(blocks) == ["same", "changed", "same"]
    changed = blocks[1].html
    assert changed.startswith("<ul>\n<li><strong>Your devices</strong>: MAC address")
    assert "the date you added it" in " ".join(marked(changed, "ins"))
    assert " ".join(marked(changed, "del")) in ("and", "label")


def test_a_sentence_added_to_a_paragraph_is_marked_alone():
    old = "We keep logs for 12 months. Then we erase them."
    new = "We keep logs for 12 months. A legal hold can keep them longer. Then we erase them."
    [block] = statement_diff(old=old, new=new)
    assert block.kind == "changed"
    assert marked(block.html, "ins") == ["A legal hold can keep them longer."]
    assert marked(block.html, "del") == []


def test_a_paragraph_rewritten_from_scratch_reads_as_removed_then_added():
    blocks = statement_diff(old="Write to our office by post.", new="Use the requests page of the portal.")
    assert kinds(blocks) == ["removed", "added"]


def test_the_same_text_has_no_changes_and_far_changes_are_cut_apart():
    assert statement_diff(old=LIST, new=LIST.replace("\n", "\r\n")) == []
    paragraphs = [f"Paragraph number {n} says something." for n in range(8)]
    new = list(paragraphs)
    new[0], new[7] = "Paragraph number 0 says something else.", "Paragraph number 7 says another thing."
    blocks = statement_diff(old="\n\n".join(paragraphs), new="\n\n".join(new))
    assert kinds(blocks) == ["changed", "same", "cut", "same", "changed"]


class _Balance(HTMLParser):
    VOID = {"br", "hr", "img"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def test_marks_keep_the_markup_well_formed_numbered_and_safe():
    old = "3. Your **right to object** to [processing](https://example.net/a).\n4. Kept <script>x</script> 12 months."
    new = "3. Your **right to object** to [direct marketing](https://example.net/b), at any time.\n4. Kept 6 months."
    blocks = statement_diff(old=old, new=new)
    html = html_of(blocks)
    checker = _Balance()
    checker.feed(html)
    assert checker.errors == [] and checker.stack == []
    assert '<ol start="3">' in html and '<ol start="4">' in html
    assert "<strong>right to object</strong>" in html and 'href="https://example.net/b"' in html
    assert "<script" not in html and 'href="https://example.net/a"' not in html
    assert "at any time" in " ".join(marked(html, "ins"))


def test_the_marks_say_what_they_are_in_words_in_the_reader_s_language():
    old, new = "Kept 12 months.", "Kept 6 months."
    with translation.override("en"):
        html = statement_diff(old=old, new=new)[0].html
    assert '<del><span class="visually-hidden">Removed: </span>12</del>' in html
    assert '<ins><span class="visually-hidden">Added: </span>6</ins>' in html
    with translation.override("fr"):
        html = statement_diff(old=old, new=new)[0].html
    assert '<span class="visually-hidden">Supprimé\u00a0: </span>12' in html
    assert '<span class="visually-hidden">Ajouté\u00a0: </span>6' in html
