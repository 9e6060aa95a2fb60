"""Small, behaviour-preserving speed-ups of moto, applied only by the tests and benchmarks that need them,
and ``as_moto_actions``, which states one way moto's IAM check differs from AWS.

``single_table_snapshot()``: moto 5's ``DynamoDBBackend.transact_write_items`` snapshots, for a
rollback on failure, the whole table of *every item* of the transaction (``copy.deepcopy(table)``
once per item, the last copy per table winning), before it writes anything. A 100-item transaction
on a table of n items therefore copies 100 x n items, and a run that keeps writing into one table
grows quadratically. Inside this context manager, repeated deep copies of the *same* table object
during one ``transact_write_items`` call return the first copy: the snapshots are all taken before
the first write, so they are equal, and moto only keeps one per table to restore on failure.
Nothing else changes: other deep copies (items, backups, other calls) go to ``copy.deepcopy`` as
before, and rollback still restores the table as it was before the call.

moto's files are not edited: the ``copy`` name inside ``moto.dynamodb.models`` is replaced, for the
duration of the context, by a stand-in that delegates everything to the real ``copy`` module, and
``transact_write_items`` by a wrapper that turns the per-call memo on and off (per thread).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from serverless_patterns.testing._extras import optional_import

#: The IAM action AWS checks for each kind of item in a ``TransactWriteItems`` call.
TRANSACTION_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def as_moto_actions(
    actions: set[str], item_kinds: set[str] | frozenset[str] = frozenset({"Put", "Update"})
) -> set[str]:
    """A role's actions as moto checks them, for a handler whose transactions hold ``item_kinds``.

    AWS authorizes each item of a ``TransactWriteItems`` call by its own action (``PutItem``,
    ``UpdateItem``, ...) and there is no ``dynamodb:TransactWriteItems`` action to grant; moto
    authorizes the call by the API's name. So ``dynamodb:TransactWriteItems`` is added when the
    role grants the action of every item kind the handler puts in its transactions.

    Args:
        actions: the role's actions, e.g. ``granted_actions(template, function_id)``.
        item_kinds: the kinds of item the handler's transactions hold (``Put``, ``Update``,
            ``Delete``, ``ConditionCheck``).

    Returns:
        A new set: ``actions``, plus ``dynamodb:TransactWriteItems`` when every kind is granted.
    """
    if {TRANSACTION_ITEM_ACTIONS[kind] for kind in item_kinds} <= actions:
        return actions | {"dynamodb:TransactWriteItems"}
    return set(actions)


class CopyOncePerCall:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``.

    While a ``transact_write_items`` call is active on this thread, ``deepcopy(table)`` of a moto
    ``Table`` copies each table object once and returns that copy again; otherwise, and for every
    other object, it is ``copy.deepcopy``.
    """

    def __init__(self) -> None:
        #: moto's DynamoDB table class (imported here: moto is in the ``testing`` extra).
        self._table_type: type = optional_import(
            "moto.dynamodb.models.table", needed_by="single_table_snapshot"
        ).Table
        self._active = threading.local()
        self.table_copies = 0
        """Deep copies of tables actually made while the memo was on (for tests of this patch)."""
        self.table_copies_saved = 0
        """Deep copies of tables answered from the memo."""
        self.table_copy_seconds = 0.0
        """Wall time spent making the table copies that were made."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, obj: Any, memo: dict[int, Any] | None = None) -> Any:
        copies: dict[int, tuple[Any, Any]] | None = getattr(self._active, "copies", None)
        if copies is None or memo is not None or not isinstance(obj, self._table_type):
            return copy.deepcopy(obj, memo)
        cached = copies.get(id(obj))
        if cached is not None and cached[0] is obj:
            self.table_copies_saved += 1
            return cached[1]
        self.table_copies += 1
        started = time.perf_counter()
        snapshot = copy.deepcopy(obj)
        self.table_copy_seconds += time.perf_counter() - started
        copies[id(obj)] = (obj, snapshot)  # keeps obj alive, so its id is not reused during the call
        return snapshot

    @contextmanager
    def active(self) -> Iterator[None]:
        """Turn the per-call memo on for this thread (re-entrant calls keep the outer memo)."""
        if getattr(self._active, "copies", None) is not None:
            yield
            return
        self._active.copies = {}
        try:
            yield
        finally:
            self._active.copies = None


@contextmanager
def single_table_snapshot() -> Iterator[CopyOncePerCall]:
    """Make moto's ``transact_write_items`` snapshot each table once per call (see the module doc).

    Not re-entrant across contexts: use one at a time (a fixture or a ``with`` around a run).

    Returns:
        A context manager yielding the stand-in, whose ``table_copies``, ``table_copies_saved`` and
        ``table_copy_seconds`` tell what the patch did and what the remaining copies cost.

    Raises:
        RuntimeError: the patch is already active.
        ImportError: moto is not installed (the ``testing`` extra).
    """
    dynamodb_models = optional_import("moto.dynamodb.models", needed_by="single_table_snapshot")
    backend = dynamodb_models.DynamoDBBackend
    namespace = vars(dynamodb_models)  # the module's globals, where its functions look up ``copy``
    if isinstance(namespace["copy"], CopyOncePerCall):
        raise RuntimeError("single_table_snapshot() is already active")
    stand_in = CopyOncePerCall()
    original = backend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with stand_in.active():
            original(self, transact_items)

    namespace["copy"] = stand_in
    backend.transact_write_items = transact_write_items
    try:
        yield stand_in
    finally:
        backend.transact_write_items = original
        namespace["copy"] = copy
