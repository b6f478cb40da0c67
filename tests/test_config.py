"""Config discovery, validation and selection semantics."""

from __future__ import annotations

from pathlib import Path

import pytest

from mllint.core.config import Config, ConfigError, discover_config, load_config_file, path_matches
from mllint.core.severity import Severity


def write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_pyproject_table_is_read(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.mllint]\nseed = 7\nignore = ["ML105"]\nmin-severity = "low"\n')
    cfg = discover_config([tmp_path / "src" / "x.py"])
    assert cfg.seed == 7
    assert cfg.ignore == ["ML105"]
    assert cfg.min_severity is Severity.LOW
    assert cfg.root == tmp_path.resolve()


def test_discovery_walks_upward_and_skips_pyproject_without_table(tmp_path: Path) -> None:
    write(tmp_path / ".mllint.yaml", "seed: 3\n")
    write(tmp_path / "pkg" / "pyproject.toml", "[project]\nname = 'x'\n")
    (tmp_path / "pkg" / "deep").mkdir(parents=True)
    cfg = discover_config([tmp_path / "pkg" / "deep"])
    assert cfg.seed == 3


def test_yaml_wins_over_pyproject_in_same_directory(tmp_path: Path) -> None:
    write(tmp_path / ".mllint.yaml", "seed: 1\n")
    write(tmp_path / "pyproject.toml", "[tool.mllint]\nseed = 2\n")
    assert discover_config([tmp_path]).seed == 1


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    p = write(tmp_path / "pyproject.toml", "[tool.mllint]\nselct = ['ML1']\n")
    with pytest.raises(ConfigError) as exc:
        load_config_file(p)
    msg = str(exc.value)
    assert "selct" in msg and str(p) in msg and "unknown key" in msg


def test_wrong_type_names_key(tmp_path: Path) -> None:
    p = write(tmp_path / ".mllint.yaml", "seed: forty-two\n")
    with pytest.raises(ConfigError) as exc:
        load_config_file(p)
    assert "'seed'" in str(exc.value) and ".mllint.yaml" in str(exc.value)


def test_bad_severity_override(tmp_path: Path) -> None:
    p = write(tmp_path / "pyproject.toml", '[tool.mllint.severity]\nML101 = "urgent"\n')
    with pytest.raises(ConfigError) as exc:
        load_config_file(p)
    assert "severity.ML101" in str(exc.value)


def test_invalid_toml_is_config_error(tmp_path: Path) -> None:
    p = write(tmp_path / "pyproject.toml", "[tool.mllint\nseed = 1\n")
    with pytest.raises(ConfigError) as exc:
        load_config_file(p)
    assert "invalid TOML" in str(exc.value)


def test_invalid_yaml_is_config_error(tmp_path: Path) -> None:
    p = write(tmp_path / ".mllint.yaml", "seed: [1,\n")
    with pytest.raises(ConfigError) as exc:
        load_config_file(p)
    assert "invalid YAML" in str(exc.value)


def test_bad_code_in_select(tmp_path: Path) -> None:
    p = write(tmp_path / ".mllint.yaml", "select: [E501]\n")
    with pytest.raises(ConfigError) as exc:
        load_config_file(p)
    assert "select" in str(exc.value)


def test_selection_prefixes() -> None:
    cfg = Config(select=["ML1"], ignore=["ML105"])
    assert cfg.is_enabled("ML101")
    assert not cfg.is_enabled("ML105")
    assert not cfg.is_enabled("ML201")
    # A more specific select beats a broader ignore.
    cfg = Config(ignore=["ML1"], extend_select=["ML102"])
    assert cfg.is_enabled("ML102") and not cfg.is_enabled("ML101")
    assert Config().is_enabled("ML999")


def test_per_file_ignores(tmp_path: Path) -> None:
    cfg = Config(per_file_ignores={"tests/*": ["ML1"], "notebooks/**": ["ML2"]})
    cfg.root = tmp_path
    assert not cfg.is_enabled("ML101", str(tmp_path / "tests" / "t.py"))
    assert cfg.is_enabled("ML101", str(tmp_path / "src" / "t.py"))


def test_path_matching() -> None:
    assert path_matches("a/build/x.py", "build")
    assert path_matches("legacy/x.py", "legacy/")
    assert path_matches("legacy/sub/x.py", "legacy")
    assert path_matches("src/gen_pb2.py", "*_pb2.py")
    assert not path_matches("src/builder.py", "build")
