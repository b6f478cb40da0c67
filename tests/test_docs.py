from mllint.docs.rule_pages import default_out_dir, stale_pages


def test_rule_docs_are_generated_and_fresh() -> None:
    stale = stale_pages(default_out_dir())
    assert not stale, f"docs/rules is stale for {stale}: run `make docs`"
