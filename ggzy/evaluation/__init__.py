"""Evaluation (评标): the pure scoring engine.

Modules, all pure (no queries, no models):

- ``scheme``    — the scoring scheme: criteria, weights, method, and its validation (R33).
- ``inputs``    — what a section's scoring is computed from: bids, price adjustments, expert
  scores and pass/fail verdicts.
- ``prices``    — evaluated prices, the 87号令 price formula (R32), the engineering
  benchmark price, abnormally low prices.
- ``ranking``   — ordering with the R34 tie rules and a seeded, verifiable draw.
- ``scoring``   — :func:`score_section`, the one entry point, and the result types.
- ``report``    — the signed report: a plain structure, canonical JSON bytes, a Markdown text.
- ``committee`` — committee size checks (R17/R18/R19) and the time-extension rule (R23).

The Django app around it (models, services, API) lives elsewhere and calls these functions.
"""
