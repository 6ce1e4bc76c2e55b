"""A simulator that tries to break complaintflow's promises (I1-I7 of the README's guarantees).

Randomised histories of the whole system (customers posting on X, Facebook and the generic
route, to one brand or two in one delivery; customers writing privately on X and Messenger;
helpdesks (Zendesk, any system) telling a case of the customer's contact; supervisors acting
on cases, by payload or as the CLI does, dismissing them, recording contacts, resolving them
and approving the removal in advance (or trying to approve what they may not); logged remarks
opened as cases by `complaintflow open` and the signed POST /remarks/open; policy files
edited; platforms failing; a worker stopped and started; the store unable to write for a
while; cases continuing as new under a lowered threshold; time passing) run against the real
pieces, and every invariant is checked after every step:

- `.venv/bin/pytest tests/simulation` (marked heavy: in the full run, not in --quick): a fixed,
  derandomised budget of hypothesis histories, plus `regressions/`, each a history the
  simulator found, shrunk and kept;
- `python -m tests.simulation --minutes N --seed S` (or `--hours`): seeded histories for as
  long as asked; prints each violation with its shrunk history as a script, steps per second
  and the workers' workflow task latencies.

steps.py (what can happen), world.py (the deployment it happens to), invariants.py (what must
hold), machine.py (the hypothesis rules), runner.py (the loop thread and replays).
"""
