"""Counts of a written independent force, read back from its files (for reports and tests)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def summarise(out_dir: Path) -> dict[str, float | int]:
    """Volumes and shares that say what kind of force was written."""
    out = Path(out_dir)
    read = {"dtype": str, "keep_default_na": False}
    crimes = pd.read_csv(out / "truth" / "crimes.csv", **read)
    mentions = pd.read_csv(out / "truth" / "person_mentions.csv", **read)
    courses = pd.read_csv(out / "truth" / "courses.csv", **read)
    stalking = crimes[crimes["is_true_stalking"] == "true"]
    persons = pd.read_csv(out / "crime_persons.csv", **read)
    # an unknown suspect's empty nominal is not a duplicate anyone could find
    nameless = set(
        persons.loc[
            persons["forename"].eq("") & persons["surname"].isin(["", "UNKNOWN"]), "person_id"
        ]
    )
    with_id = mentions[(mentions["person_id"] != "") & ~mentions["person_id"].isin(nameless)]
    ids_per_person = with_id.groupby("true_person_id")["person_id"].nunique()
    perpetrators = (
        courses[courses["is_stalking"] == "true"]
        .groupby("perpetrator_true_person_id")["victim_true_person_id"]
        .nunique()
    )
    return {
        "crimes": len(crimes),
        "mentions": len(mentions),
        "true_people": int(mentions["true_person_id"].nunique()),
        "nominal_ids": int(with_id["person_id"].nunique()),
        "courses": len(courses),
        "true_stalking_courses": int((courses["is_stalking"] == "true").sum()),
        "true_stalking_crimes": len(stalking),
        "hidden_share_of_true_stalking": round(
            float((stalking["is_hidden_stalking"] == "true").mean()), 4
        ),
        "recorded_stalking_principal_share": round(
            float((crimes["identified_route"] == "principal").mean()), 4
        ),
        "false_principal_share": round(
            float(
                (
                    (crimes["identified_route"] != "none") & (crimes["is_true_stalking"] == "false")
                ).mean()
            ),
            4,
        ),
        # of the people holding a named nominal, the share holding two or more
        "duplicate_nominal_share_of_people": round(float((ids_per_person > 1).mean()), 4),
        "nameless_suspect_nominals": len(nameless),
        "serial_stalkers": int((perpetrators >= 2).sum()),
        "quarantined_crimes": int((crimes["quarantined"] == "true").sum()),
        "quarantined_mentions": int((mentions["quarantined"] == "true").sum()),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(summarise(Path(sys.argv[1])), indent=1))
