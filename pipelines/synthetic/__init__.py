"""Synthetic force generator with ground truth. Pure Python: no Dagster imports.

from pipelines.synthetic import generate_force
generate_force("tiny", seed=1, out_dir=Path("out"))
"""

from pipelines.synthetic.generator import generate_force
from pipelines.synthetic.presets import PRESETS, Rates

__all__ = ["PRESETS", "Rates", "generate_force"]
