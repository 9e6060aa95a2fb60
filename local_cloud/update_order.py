"""The order CloudFormation updates a stack's changed resources in: what each refers to goes first.

Pure template logic (no moto), used by ``local_cloud.cfn_fixes`` for the local cloud's stack updates.
"""

from __future__ import annotations

from typing import Any


def _references(node: Any) -> set[str]:
    """Logical IDs a resource refers to: Ref, Fn::GetAtt, Fn::Sub's ${X} and ${X.Attr}, DependsOn."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= {part.split("}")[0].split(".")[0] for part in str(text).split("${")[1:]}
                found |= _references(value[1] if isinstance(value, list) and len(value) > 1 else None)
            elif key == "DependsOn":
                found |= {value} if isinstance(value, str) else set(value)
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


def dependencies(names: list[str], resources: dict[str, Any]) -> dict[str, set[str]]:
    """Per changed resource: the changed ones it refers to, directly or through new or unchanged ones.

    E.g. the ``live`` alias's UpdatePolicy names the pre-traffic hook, whose environment names the new
    version, which names the function: the function, then the hook, then the alias.
    """
    changed = set(names)

    def depends_on(name: str) -> set[str]:
        result: set[str] = set()
        pending, seen = [name], {name}
        while pending:
            for target in _references(resources.get(pending.pop())) & set(resources):
                if target in changed:
                    result.add(target)
                elif target not in seen:  # new or unchanged: follow what it refers to
                    seen.add(target)
                    pending.append(target)
        result.discard(name)
        return result

    return {name: depends_on(name) for name in names}


def in_dependency_order(needs: dict[str, set[str]]) -> list[str]:
    """The changed resources in dependency order, as CloudFormation updates them (else template order)."""
    ordered: list[str] = []
    remaining = list(needs)
    while remaining:
        ready = next((n for n in remaining if not needs[n] & set(remaining)), remaining[0])  # a cycle: as is
        ordered.append(ready)
        remaining.remove(ready)
    return ordered
