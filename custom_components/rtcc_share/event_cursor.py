"""Where Home Assistant is in the gateway's event stream, kept across restarts.

The gateway numbers its events (`seq`, restarting with each run, whose `stream` id says which) and
replays those after a cursor. Home Assistant keeps the last one it handled in the entry's store,
so on reconnect it asks for what it missed: an "ask me first" request that arrived meanwhile and
still waits is announced then, once. The requests already announced are kept too (a bounded
list), so neither a replay nor a fallback to the state announces one twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

ANNOUNCED_KEPT: Final = 64  # far more than are ever pending at once


@dataclass(slots=True)
class EventCursor:
    """The last event handled, and the requests already announced (newest last)."""

    stream: str | None = None
    seq: int = 0
    announced: list[str] = field(default_factory=list)
    # Of the current connection (not stored): events up to this number are replays; whether
    # they can be trusted to be all that was missed (no gap, a known cursor).
    replayed_to: int = field(default=0, compare=False)
    replay_whole: bool = field(default=True, compare=False)

    def query(self) -> tuple[int, str | None]:
        """`after` and `stream` for the event stream."""
        return self.seq, self.stream

    def opened(self, hello: dict[str, Any]) -> bool:
        """The stream's `replay` hello; True when events may have been missed (use the state)."""
        stream = hello.get("stream")
        seq = hello.get("seq")
        same_run = self.stream is not None and stream == self.stream
        gap = hello.get("gap") is not False or not same_run
        if not same_run:
            self.seq = 0  # numbers of another run mean nothing in this one
        self.stream = stream if isinstance(stream, str) else None
        self.replayed_to = seq if isinstance(seq, int) else 0
        self.replay_whole = not gap
        return gap

    def take(self, event: dict[str, Any]) -> bool:
        """Whether `event` is new (not handled already); moves the cursor past it."""
        seq = event.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            return True  # an event without a number cannot be placed: handle it
        if seq <= self.seq:
            return False
        self.seq = seq
        return True

    def is_replay(self, event: dict[str, Any]) -> bool:
        """Whether `event` happened before this connection opened."""
        seq = event.get("seq")
        return isinstance(seq, int) and seq <= self.replayed_to

    def should_fire(self, event: dict[str, Any], waiting: list[str]) -> bool:
        """Whether a new event becomes a bus event now (`waiting`: ids pending in the state).

        A replay after a gap is not trusted to be all that happened (the state says what waits);
        a replayed request is announced only while it still waits; a request only once.
        """
        replay = self.is_replay(event)
        if replay and not self.replay_whole:
            return False
        if event.get("type") != "request_received":
            return True
        request_id = str(event.get("request_id", ""))
        if replay and request_id not in waiting:
            return False
        return self.announce(request_id)

    def announce(self, request_id: str) -> bool:
        """Mark a request announced; False if it was already."""
        if not request_id or request_id in self.announced:
            return False
        self.announced.append(request_id)
        del self.announced[:-ANNOUNCED_KEPT]
        return True

    def to_json(self) -> dict[str, Any]:
        """The store's shape."""
        return {"stream": self.stream, "seq": self.seq, "announced": list(self.announced)}

    @classmethod
    def from_json(cls, raw: Any) -> EventCursor:
        """Read the store's shape; anything unreadable is a fresh cursor."""
        if not isinstance(raw, dict):
            return cls()
        stream, seq, announced = raw.get("stream"), raw.get("seq"), raw.get("announced")
        return cls(
            stream=stream if isinstance(stream, str) else None,
            seq=seq if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 else 0,
            announced=[str(r) for r in announced][-ANNOUNCED_KEPT:]
            if isinstance(announced, list)
            else [],
        )


def pending_ids(state: dict[str, Any] | None) -> list[str]:
    """The ids of the requests a state lists as waiting for the owner, in its order."""
    requests = (state or {}).get("pending_requests") or []
    return [str(r["request_id"]) for r in requests if isinstance(r, dict) and "request_id" in r]
