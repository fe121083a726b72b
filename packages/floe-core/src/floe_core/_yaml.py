"""Read YAML files and point at the line of any value, for error messages that say where."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class YamlSyntaxError(ValueError):
    """Malformed YAML; ``line`` is 1-based."""

    def __init__(self, problem: str, line: int | None) -> None:
        self.problem = problem
        self.line = line
        super().__init__(f"line {line}: {problem}" if line else problem)


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML data plus the node tree, to locate values by their path."""

    data: Any
    root: yaml.Node | None

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """1-based line of the deepest node along ``path`` that exists (a key's own line)."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for part in path:
            found = _child(node, part)
            if found is None:
                break
            node, mark = found
            line = mark.line + 1
        return line


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Node, yaml.Mark] | None:
    """The child at ``part`` and where it starts: for a mapping entry, where its key is."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                found: yaml.Node = value
                return found, key.start_mark
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        child: yaml.Node = node.value[part]
        return child, child.start_mark
    return None


class _TextDatesLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates and timestamps as the text written (ODCS fields are strings)."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; raise ``YamlSyntaxError`` with the line of the problem."""
    loader = _TextDatesLoader(text)
    try:
        # What yaml.safe_load does, keeping the node tree: the text is parsed once.
        root: yaml.Node | None = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        start = exc.context_mark
        if exc.problem and exc.context and start and mark and start.line != mark.line:
            # An unclosed bracket or quote is noticed lines later: say where it was opened.
            problem += f" ({exc.context}, started on line {start.line + 1})"
        raise YamlSyntaxError(problem, mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), None) from exc
    except RecursionError:  # PyYAML composes and constructs nested collections recursively
        raise YamlSyntaxError(
            "collections are nested too deeply to read; flatten the document", None
        ) from None
    finally:
        loader.dispose()
    return YamlDocument(data, root)


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``; OSError and UnicodeDecodeError propagate."""
    return path.read_text(encoding="utf-8")


def format_path(loc: Sequence[str | int]) -> str:
    """``("schema", 0, "properties")`` as ``schema[0].properties``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
