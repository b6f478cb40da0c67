import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _every_rule_on(request, monkeypatch):
    """Tests of rules test rules, not the default rule set: in this process
    every rule counts as default-on, so a plain `Config()` runs them all
    (opt-in rules included). Tests of the default set itself (config
    semantics, `mllint rules`, the exit status) are marked `default_rules`
    and see the catalogue's real `default` flags. Commands run in a
    subprocess are not affected: they pass `--select ALL` or a config file."""
    if request.node.get_closest_marker("default_rules") is None:
        import mllint.core.config as config_module

        monkeypatch.setattr(config_module, "is_default_rule", lambda code: True)
    yield
