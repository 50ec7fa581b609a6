"""Accuracy evaluations and benchmarks: `python -m pipelines.evaluation.<name>`; all of them via
`python -m pipelines.evaluation.run_all` (make eval)."""
