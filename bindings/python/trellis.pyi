"""Decision tables of trellis, in-process.

Load a table compiled with ``trellis compile -o FILE`` and ask it the
questions ``trellis query`` answers::

    import trellis
    table = trellis.Table.open("policies.tbl")
    table.allow("alice", "templates:read", "acme")   # -> bool

A table is immutable and safe to share between threads; the batch call
``allow_many`` releases the GIL while it runs.
"""

from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any, Literal, Optional, TypedDict, Union, overload

__version__: str

class TableError(Exception):
    """A table file that cannot be read, or is not a valid trellis table.

    Raised by :meth:`Table.open` and :meth:`Table.from_bytes` on a missing
    or unreadable file, a wrong magic number, an unsupported format version,
    a truncated file, a checksum mismatch or a broken structure; the message
    says which. A corrupt table is always this exception, never a crash.
    """

class Step(TypedDict, total=False):
    """One step of an explanation (the decision server's ``/v1/explain`` shape).

    ``kind`` is ``"no_grant"``, ``"grant"``, ``"gate"``, ``"other_dimension"``
    or ``"other_org"``. A ``grant`` step has ``role`` or ``policy`` (the
    other None), ``at`` (the org the grant is made at), ``locked``,
    ``resources`` (dimension -> resource ids), ``source`` (``file:line``
    with ``--provenance``, else None) and ``effect`` (``"gives"``,
    ``"restricted"``, ``"not_published"`` or ``"other"``). A ``gate`` step
    has ``opened``; an ``other_org`` step has ``owner``.
    """

    kind: Literal["no_grant", "grant", "gate", "other_dimension", "other_org"]
    role: Optional[str]
    policy: Optional[str]
    at: str
    locked: bool
    resources: dict[str, list[str]]
    source: Optional[str]
    effect: Literal["gives", "restricted", "not_published", "other"]
    opened: bool
    owner: str

class Explanation(TypedDict):
    """What :meth:`Table.explain` returns."""

    decision: Literal["allow", "deny"]
    allowed: bool
    lines: list[str]
    """The lines ``trellis query --explain`` prints."""
    steps: list[Step]
    unknown: list[str]
    """The names the table does not know (then ``decision`` is ``"deny"``)."""

class Table:
    """A compiled trellis decision table, loaded and validated.

    Names are user ids, org ids, ``module:action`` permissions, resource
    ids, role names (``owner::name`` or a bare name held by one owner) and
    policy ids. An unknown name answers ``False`` (or an empty list).
    """

    @staticmethod
    def open(path: Union[str, PathLike[str]]) -> Table:
        """Map the table file at ``path`` and validate it (magic, version,
        checksum, structure). Raises :class:`TableError` if it cannot be
        read or is not a valid table."""

    @staticmethod
    def from_bytes(data: bytes) -> Table:
        """Validate a table held in memory (copied once). Raises
        :class:`TableError` on bytes that are not a valid table."""

    @property
    def input_hash(self) -> str:
        """The hash of the inputs the table was compiled from, 16 hex digits."""

    @property
    def user_count(self) -> int:
        """Number of users (user handles are ``range(user_count)``)."""

    @property
    def org_count(self) -> int:
        """Number of orgs (org handles are ``range(org_count)``)."""

    def allow(
        self,
        user: str,
        permission: str,
        org: Optional[str] = None,
        resource: Optional[str] = None,
    ) -> bool:
        """May ``user`` do ``permission`` (``module:action``) at ``org``?

        With ``resource``, the question is about that resource; ``org`` may
        then be left out for a resource of an org (it is asked at its own
        org). Unknown names answer ``False``."""

    def allow_handles(
        self, u: int, p: int, x: Optional[int] = None, q: Optional[int] = None
    ) -> bool:
        """The decision by handles (from :meth:`user`, :meth:`permission`,
        :meth:`org`, :meth:`resource`), for hot loops. An unknown handle
        answers ``False``; ``x`` None (or negative) is the resource's own
        org, ``q`` None (or negative) no resource."""

    @overload
    def allow_many(
        self,
        users: Sequence[str],
        permissions: Sequence[str],
        orgs: Optional[Sequence[Optional[str]]] = None,
        resources: Optional[Sequence[Optional[str]]] = None,
    ) -> list[bool]: ...
    @overload
    def allow_many(
        self,
        users: Any,
        permissions: Any,
        orgs: Any,
        resources: Any = None,
    ) -> Any: ...
    def allow_many(
        self,
        users: Any,
        permissions: Any,
        orgs: Any = None,
        resources: Any = None,
    ) -> Any:
        """Many decisions at once (question ``i`` is ``users[i]``,
        ``permissions[i]``, ``orgs[i]``, ``resources[i]``), the GIL
        released while they run.

        Over sequences of names (``orgs`` and ``resources`` may hold None,
        or be None), a ``list[bool]`` equal to calling :meth:`allow` on
        each. Over numpy integer arrays of handles (``-1`` in ``orgs`` for
        the resource's own org, in ``resources`` for no resource), a numpy
        bool array. Raises ``ValueError`` if the lengths differ."""

    def user(self, name: str) -> Optional[int]:
        """The handle of user ``name``, or None."""
    def org(self, name: str) -> Optional[int]:
        """The handle of org ``name``, or None."""
    def permission(self, name: str) -> Optional[int]:
        """The handle of permission ``module:action``, or None."""
    def resource(self, name: str) -> Optional[int]:
        """The handle of resource ``name``, or None."""
    def role(self, name: str) -> Optional[int]:
        """The handle of role ``owner::name`` (or a bare name one owner holds), or None."""
    def policy(self, name: str) -> Optional[int]:
        """The handle of access policy ``name``, or None."""
    def dimension(self, name: str) -> Optional[int]:
        """The handle of dimension ``name``, or None."""

    def roles(self, user: str, org: str) -> list[str]:
        """The effective roles of ``user`` at ``org`` by display name,
        sorted (as ``trellis query --roles``); a role held for some
        resources only is held. Empty for unknown names."""

    def policies(self, user: str, org: str) -> list[str]:
        """The access policies reaching ``user`` at ``org``; empty for unknown names."""

    def who(
        self,
        permission: str,
        org: Optional[str] = None,
        resource: Optional[str] = None,
    ) -> list[str]:
        """Every user allowed ``permission`` at ``org`` (or on ``resource``,
        at its own org when ``org`` is left out), in id order."""

    def published(self, role: str, org: str) -> bool:
        """Is ``role`` published at ``org``? ``False`` for unknown names."""

    def can_assign(
        self,
        admin: str,
        role: str,
        user: str,
        org: str,
        resources: Optional[Mapping[str, Sequence[str]]] = None,
    ) -> bool:
        """May ``admin`` give ``role`` to ``user`` at ``org``, with the
        assignment's ``resources`` (dimension -> resource ids)? ``False``
        for unknown names or a resource not of its dimension."""

    def explain(
        self,
        user: str,
        permission: str,
        org: Optional[str] = None,
        resource: Optional[str] = None,
    ) -> Explanation:
        """Why :meth:`allow` answers what it does, as plain data."""
