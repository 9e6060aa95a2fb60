"""Every public name of ``serverless_patterns`` is documented: the check behind ``make docs``.

mkdocstrings (and griffe under it) silently skips what has no docstring, so the reference would just
lack it. This check fails instead: each name in the package's ``__all__`` needs a docstring, each
public method and property of a public class too, and every constructor argument must be described
(an ``Args:`` entry, or for a dataclass field an ``Attributes:`` entry or its own docstring), and a
construct (a class taking ``scope``) with arguments of its own must say what bad input raises (a
``Raises:`` section).
Run by the mkdocs hook (docs/tools/mkdocs_hooks.py) and by tests/unit/test_docs.py.
"""

from __future__ import annotations

from pathlib import Path

import griffe

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "serverless_patterns"
#: Constructor arguments every construct has; CDK documents them.
_IMPLIED = {"self", "scope", "id", "cls"}


def _documented_names(obj: griffe.Object) -> set[str]:
    names: set[str] = set()
    for candidate in (obj, obj.members.get("__init__")) if isinstance(obj, griffe.Class) else (obj,):
        if candidate is None or candidate.docstring is None:
            continue
        for section in candidate.docstring.parse("google"):
            if section.kind in (
                griffe.DocstringSectionKind.parameters,
                griffe.DocstringSectionKind.attributes,
            ):
                names.update(item.name for item in section.value)
    return names


def _sections(obj: griffe.Object) -> set[griffe.DocstringSectionKind]:
    kinds: set[griffe.DocstringSectionKind] = set()
    for candidate in (obj, obj.members.get("__init__")) if isinstance(obj, griffe.Class) else (obj,):
        if candidate is not None and candidate.docstring is not None:
            kinds.update(section.kind for section in candidate.docstring.parse("google"))
    return kinds


def _parameters(obj: griffe.Object) -> list[str]:
    if isinstance(obj, griffe.Function):
        return [p.name for p in obj.parameters if p.name not in _IMPLIED and not p.name.startswith("_")]
    if isinstance(obj, griffe.Class):
        return [p.name for p in obj.parameters if p.name not in _IMPLIED and not p.name.startswith("_")]
    return []


def problems(search_path: Path = REPO / "constructs") -> list[str]:
    """What is undocumented in the public API, one line each (empty when all is documented)."""
    loader = griffe.GriffeLoader(search_paths=[str(search_path)], docstring_parser=griffe.Parser.google)
    package = loader.load(PACKAGE)
    loader.resolve_aliases(implicit=False, external=False)
    assert isinstance(package, griffe.Module)
    exported = package.attributes["_EXPORTS"].value
    assert isinstance(exported, griffe.ExprDict)
    found: list[str] = []
    for key, value in zip(exported.keys, exported.values, strict=True):
        name, module = str(key).strip("'\""), str(value).strip("'\"")
        obj = loader.modules_collection[module][name]
        target = obj.final_target if isinstance(obj, griffe.Alias) else obj
        found += _check(f"{PACKAGE}.{name}", target)
    return found


def _check(path: str, obj: griffe.Object) -> list[str]:
    found: list[str] = []
    if not obj.docstring or not obj.docstring.value.strip():
        found.append(f"{path}: no docstring")
    documented = _documented_names(obj)
    for parameter in _parameters(obj):
        member = obj.members.get(parameter) if isinstance(obj, griffe.Class) else None
        has_own = member is not None and not isinstance(member, griffe.Alias) and bool(member.docstring)
        if parameter not in documented and not has_own:
            found.append(f"{path}: argument {parameter!r} is not described")
    is_construct = isinstance(obj, griffe.Class) and any(p.name == "scope" for p in obj.parameters)
    if is_construct and _parameters(obj) and griffe.DocstringSectionKind.raises not in _sections(obj):
        found.append(f"{path}: no Raises section (what bad input raises)")
    if isinstance(obj, griffe.Class):
        for member_name, member in obj.members.items():
            if member_name.startswith("_") or isinstance(member, griffe.Alias) or member.inherited:
                continue
            if isinstance(member, griffe.Function) and not member.docstring:
                found.append(f"{path}.{member_name}: no docstring")
    return found


if __name__ == "__main__":
    lines = problems()
    print("\n".join(lines) or "every public name is documented")
    raise SystemExit(1 if lines else 0)
