"""What the case learns from outside while it runs: later posts in its thread, named events.

A later post is counted once (redeliveries ignored), may say thanks, and escalates the case
when the thread gets worse than the playbook it runs. Each post costs the same small work
whatever its length: its features were read at ingest.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from complaintflow.rules.features import is_thanks
    from complaintflow.rules.mention import Mention
    from complaintflow.rules.model import Playbook
    from complaintflow.workflows import search
    from complaintflow.workflows.case.running import CaseRun, clip, higher
    from complaintflow.workflows.case.versions import (
        PUBLISH_ONLY_WHAT_A_POST_CHANGED,
        THANKS_FROM_INGEST,
    )
    from complaintflow.workflows.messages import CaseEvent, ThreadPost

MAX_MENTION_IDS = 200  # latest post ids kept to recognise redeliveries
MAX_EVENT_NAMES = 50  # event names kept besides those the playbook awaits


async def add_post(run: CaseRun, post: ThreadPost) -> None:
    """Take a later post in the thread into the case."""
    state = run.state
    if post.id in state.mentions:
        return  # the first mention again (signal-with-start), or a redelivery
    state.mentions.append(post.id)
    if len(state.mentions) > MAX_MENTION_IDS:
        del state.mentions[1]  # keep the first post and the latest ones
    state.mention_count = max(state.mention_count, 1) + 1
    same_author = post.author_handle == run.case.mention.author.handle
    if same_author and _thanks(post):
        state.thanked = True
        run.audit(post.author_handle, "customer said thanks", detail=post.text[:200])
    score = post.score
    run.audit(
        post.author_handle or "customer",
        "new post in the thread",
        detail=f"score {'?' if score is None else score}: {post.text[:120]}",
    )
    if score is not None and score > state.score:
        state.score = score
        run.search[search.CASE_SCORE.name] = score
        playbook = pinned_playbook(run, post.playbook)
        if playbook is not None and higher(playbook.priority, state.priority):
            await run.escalate(
                "complaintflow",
                playbook.priority,
                text=f"the thread got worse: {post.route} (score {score})",
            )
        run.publish()
    elif not workflow.patched(PUBLISH_ONLY_WHAT_A_POST_CHANGED):
        run.publish()  # cases that ran before: every post re-rendered what supervisors see


def _thanks(post: ThreadPost) -> bool:
    """Whether the post thanks the brand, as ingest read it. Posts signalled before ingest
    read it are scanned here, as they were when they ran."""
    if post.thanks is not None:
        return post.thanks
    if workflow.patched(THANKS_FROM_INGEST):
        return False
    return is_thanks(Mention(id=post.id, text=post.text, sentiment=post.sentiment))


def pinned_playbook(run: CaseRun, name: str) -> Playbook | None:
    """The playbook of the case's own pinned policy that `decision` names, if it has one.

    A decision may come from a newer policy (a playbook renamed since the case opened) or, in
    a shared deployment, from another brand's: the case keeps its own policy, notes the name it
    does not know in its audit trail and goes on.
    """
    if not name:
        return None
    for playbook in run.policy.playbooks:
        if playbook.name == name:
            return playbook
    run.audit(
        "complaintflow",
        "ignored a decision's playbook",
        detail=f"{clip(name, 100)} is not a playbook of {run.policy.label}; the case keeps its own",
    )
    return None


def record_event(run: CaseRun, received: CaseEvent) -> None:
    """Note a named event (each name once; any the playbook awaits, a bounded few others)."""
    if not received.name:
        run.audit("complaintflow", "ignored an event signal", detail="it has no name")
        return
    events = run.state.events
    awaited = any(s.signal == received.name for s in run.playbook.steps)
    if received.name not in events and (awaited or len(events) < MAX_EVENT_NAMES):
        events.append(received.name)
    run.audit(received.by or "complaintflow", "event", detail=received.name)
