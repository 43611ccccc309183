"""What a conversation waits for besides the current question: one typed record, one storage key.

It lives in ``conversation.answers`` under ``_pending`` (the answers are the draft's JSON column), and
this module is the only one that reads or writes it. Conversations stored before it existed kept six
loose underscore keys (``_await``, ``_photo``, ``_restart_arg``, ``_dropped``, ``_editing``,
``_labels``); ``load`` reads those once and ``store`` replaces them, so drafts in flight keep working.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

KEY = "_pending"
LEGACY = {
    "_await": "kind",
    "_photo": "photo",
    "_restart_arg": "restart_arg",
    "_dropped": "dropped",
    "_editing": "editing",
    "_labels": "labels",
}

# The kinds of reply a conversation may wait for (runtime.AWAITED maps each to its handler).
PHOTO = "photo"  # which registration a photo belongs to (several await payment)
CANCEL = "cancel"  # yes/no: really forget the draft?
RESTART = "restart"  # continue the draft in progress, or start again?
DELETE_DATA = "delete_data"  # yes/no: really ask for the runner's data to be deleted?
FIELD = "field"  # which answer to change, from the summary's list of answers
CHANGE = "change"  # a change after registration (flows/changes.py) waits for its next answer
LEAVE_WAITLIST = "leave_waitlist"  # yes/no: really leave the waiting list?


@dataclass(frozen=True)
class Pending:
    """``kind`` the reply awaited; ``photo`` the stored proof waiting for its pick ({path, file_id,
    ids, asks}); ``restart_arg`` DAFTAR's argument while asking continue/restart; ``dropped`` the
    7-day sweep dropped the draft (say so once); ``editing`` the runner came from the summary;
    ``labels`` what the summary shows for answers whose value is not readable (question -> label);
    ``suggestion`` the correction a parser proposed for the current question (a YES takes it);
    ``held`` an answer refused only because another answer clashed with it (a birth date outside
    the category's ages), filled in once that other answer changes so that it fits.
    """

    kind: str | None = None
    photo: dict[str, Any] | None = None
    restart_arg: str | None = None
    dropped: bool = False
    editing: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    suggestion: dict[str, str] | None = None  # {"key", "value"}: "did you mean …?" (YES takes it)
    held: dict[str, str] | None = None  # {"key", "value"}: an answer refused only for a clash
    unclear: int = 0  # unclear texts in a row while payment is awaited (the replies vary)

    def awaiting(self, kind: str | None, **changes: Any) -> Pending:
        return replace(self, kind=kind, **changes)


def load(answers: dict[str, Any] | None) -> Pending:
    """The pending record in ``answers`` (converted from the legacy keys when it has none)."""
    answers = answers or {}
    stored = answers.get(KEY)
    if isinstance(stored, dict):
        values = {k: v for k, v in stored.items() if k in Pending.__dataclass_fields__}
    else:
        values = {name: answers[old] for old, name in LEGACY.items() if old in answers}
    return Pending(
        kind=str(values["kind"]) if values.get("kind") else None,
        photo=dict(values["photo"]) if isinstance(values.get("photo"), dict) else None,
        restart_arg=values.get("restart_arg") or None,
        dropped=bool(values.get("dropped")),
        editing=bool(values.get("editing")),
        labels=dict(values.get("labels") or {}),
        suggestion=_mapping(values.get("suggestion")),
        held=_mapping(values.get("held")),
        unclear=int(values.get("unclear") or 0),
    )


def _mapping(value: Any) -> dict[str, str] | None:
    return dict(value) if isinstance(value, dict) else None


def store(answers: dict[str, Any], pending: Pending) -> dict[str, Any]:
    """Write ``pending`` into ``answers`` in place (legacy keys removed); return ``answers``."""
    for old in LEGACY:
        answers.pop(old, None)
    data = {k: v for k, v in asdict(pending).items() if v not in (None, False, {})}
    if data:
        answers[KEY] = data
    else:
        answers.pop(KEY, None)
    return answers


def with_pending(answers: dict[str, Any] | None, pending: Pending) -> dict[str, Any]:
    """A new answers dict holding ``pending`` (the JSON column only notices reassignment)."""
    return store(dict(answers or {}), pending)


def is_internal(key: str) -> bool:
    """Whether an answers key is engine bookkeeping rather than a runner's answer."""
    return key.startswith("_")


def of(conversation: Any) -> Pending:
    """The conversation's pending record."""
    return load(conversation.answers)


def put(conversation: Any, pending: Pending) -> None:
    """Store ``pending`` on the conversation (a new dict, so the JSON column sees the change)."""
    conversation.answers = with_pending(conversation.answers, pending)


def upgrade(conversation: Any) -> None:
    """Convert a conversation stored with the legacy keys to the one ``_pending`` key."""
    if any(old in (conversation.answers or {}) for old in LEGACY):
        put(conversation, of(conversation))
