"""One wake-up timer for all of a case's deadlines (approval, SLA, contact, resolution).

Temporal Cloud bills each timer started; a case that waits for several things at once (its
SLA and an approval) needs only a timer for the earliest. Deterministic: workflow time only.
"""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow


class Alarm:
    """Keeps one timer armed for the earliest deadline any wait of the case registered.

    A deadline later than the armed timer starts none: when the timer rings, the next one is
    armed for what is still ahead. A wait that ends early leaves the timer running (cancelling
    it would save nothing; the next wait may use it).
    """

    def __init__(self) -> None:
        self.deadlines: list[tuple[datetime, str]] = []
        self.armed: datetime | None = None
        self.task: asyncio.Task[None] | None = None

    def need(self, at: datetime, summary: str) -> None:
        """Wake the case at `at` (or earlier), for the wait `summary` names."""
        self.deadlines.append((at, summary))
        if self.armed is None or at < self.armed:
            self._arm(at, summary)

    def expect(self, at: datetime, summary: str) -> None:
        """Arm for a deadline a wait will register in a moment (no timer for a later one).

        A case's first approval is asked once its first steps ran, in a later workflow task
        than its start: armed at the start for about then, the SLA's later deadline needs no
        timer of its own, and the approval's (a moment later) none either.
        """
        if self.armed is None or at < self.armed:
            self._arm(at, summary)

    def drop(self, at: datetime) -> None:
        """The wait for `at` is over."""
        for index, (deadline, _) in enumerate(self.deadlines):
            if deadline == at:
                del self.deadlines[index]
                return

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    def _arm(self, at: datetime, summary: str) -> None:
        self.stop()  # an earlier deadline replaces the armed timer (a cancel is not billed)
        self.armed = at
        self.task = asyncio.create_task(self._ring(at, summary))

    async def _ring(self, at: datetime, summary: str) -> None:
        try:
            await workflow.sleep(max(at - workflow.now(), timedelta(0)), summary=summary[:200])
        except asyncio.CancelledError:
            return
        self.armed, self.task = None, None
        ahead = [(d, s) for d, s in self.deadlines if d > workflow.now()]
        if ahead:
            self._arm(*min(ahead))
