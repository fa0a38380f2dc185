"""The liveness models: raft.tla's election with a network topology, timers and fairness.

A liveness model is the one model of spec/next.py with `Params.topology` set: the action table
gets the liveness slot (the environment's Stabilize and LuckyTimeout, timers restricted by the
timing assumptions, a lossy network until it stabilizes) and every action carries its fairness.
The modules, in the order a step goes through them:

- `timing`: the timing assumptions (after stabilization) and the environment's actions;
- `network`: the topology's links, losses before stabilization, one message per slot;
- `fairness`: which action instances are weakly or strongly fair, and the assumptions printed
  with every verdict;
- `quotient`: dead variables cleared and terms normalised, so an election storm is a cycle;
- `properties`: the liveness properties, each as the fair cycles that violate it;
- `model`: the model as the generic fair-cycle checker (model_check.liveness) sees it.
"""

from __future__ import annotations
