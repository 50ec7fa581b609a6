"""The screening evaluation's account of the held-in weight search says whether the configured
weights are among the best, and by how many crimes they differ when they are not."""

from pipelines.evaluation.screening import _tied_sentence

FREE = ["recorded_stalking", "suspect_stalking"]


def _set(recorded: int, suspect: int, found: int, precision: float) -> dict:
    figures = {"true_positives": found, "precision": precision}
    return {"recorded_stalking": recorded, "suspect_stalking": suspect, "figures": figures}


def test_configured_weights_outside_the_ties_are_reported_with_the_crimes_they_miss() -> None:
    tied = [_set(8, 6, 319, 0.8552), _set(10, 9, 319, 0.8507)]
    choice = {"tied": tied, "chosen": tied[0], "configured": _set(7, 5, 316, 0.8729)}
    sentence = _tied_sentence(choice, FREE)
    assert "2 weight sets, precision 0.8507-0.8552" in sentence
    assert "recorded_stalking 8-10, suspect_stalking 6-9" in sentence
    assert "not among them: they find 316 hidden crimes against the best's 319" in sentence


def test_configured_weights_among_the_ties_are_said_to_be_kept_as_configured() -> None:
    tied = [_set(8, 6, 319, 0.8552), _set(7, 5, 319, 0.8530)]
    choice = {"tied": tied, "chosen": tied[0], "configured": _set(7, 5, 319, 0.8530)}
    sentence = _tied_sentence(choice, FREE)
    assert "The configured weights are among them" in sentence
    assert "not among them" not in sentence
