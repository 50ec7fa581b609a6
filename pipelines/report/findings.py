"""Key findings as sentences, generated from the (already disclosure-controlled) figures."""

from __future__ import annotations

from typing import Any

from pipelines.disclosure.suppression import Rate
from pipelines.report.compare import Figure3, direction, pct_change


def _change_phrase(f: Figure3, against: str) -> str | None:
    before = f.year_ago if against == "year" else f.previous
    verb = direction(f.now, before)
    if verb is None:
        return None
    where = "the same quarter last year" if against == "year" else "the previous quarter"
    if verb == "was stable":
        return f"was stable on {where} ({before})"
    change = pct_change(f.now.value, before.value) or 0.0
    return f"{verb} {abs(change):.0%} on {where} (from {before} to {f.now})"


def key_findings(quarter: str, figures: dict[str, Any], k: int) -> list[str]:
    out: list[str] = []
    total: Figure3 | None = figures.get("total")
    if total is not None and not total.now.suppressed:
        phrase = _change_phrase(total, "year")
        sentence = f"{total.now} crimes entered the stalking universe in {quarter}"
        sentence += f": the number {phrase}." if phrase else "."
        prev = _change_phrase(total, "previous")
        if prev:
            sentence += f" Against the previous quarter it {prev.split(' (')[0].split(' on ')[0]}."
        out.append(sentence)
    da: dict[str, Rate] | None = figures.get("da_share")
    if da and not da["now"].suppressed and da["now"].value is not None:
        s = f"{da['now']} of stalking crimes were flagged as domestic abuse"
        if not da["year_ago"].suppressed and da["year_ago"].value is not None:
            s += f" ({da['year_ago']} a year earlier)"
        out.append(s + ".")
    online: dict[str, Rate] | None = figures.get("online_share")
    if online and not online["now"].suppressed and online["now"].value is not None:
        s = f"{online['now']} carried the online flag"
        if not online["year_ago"].suppressed and online["year_ago"].value is not None:
            points = round((online["now"].value - online["year_ago"].value) * 100)
            s += (
                f", {abs(points)} percentage points {'up' if points > 0 else 'down'} on a year ago"
                if points
                else ", unchanged on a year earlier"
            )
        out.append(s + ".")
    screened: Figure3 | None = figures.get("screened")
    if screened is not None:
        if screened.now.suppressed:
            out.append(
                f"Screening identified fewer than {k} possible hidden stalking crimes this "
                "quarter (exact figure suppressed)."
            )
        elif screened.now.value:
            out.append(
                f"{screened.now} crimes recorded under other classifications were flagged by "
                "screening as possible hidden stalking: reviewing them is the quickest gain in "
                "identification."
            )
    repeat: Figure3 | None = figures.get("repeat_victims")
    if repeat is not None and not repeat.now.suppressed:
        phrase = _change_phrase(repeat, "year")
        out.append(
            f"{repeat.now} victims were repeat victims (2 or more stalking crimes in 12 months)"
            + (f"; the number {phrase}." if phrase else ".")
        )
    perps: list[Figure3] | None = figures.get("perpetrators")
    if perps:
        serial, high, no_order = perps[2], perps[3], perps[6]
        parts = []
        if not serial.now.suppressed:
            parts.append(f"{serial.now} serial perpetrators (2 or more victims in 3 years)")
        if not high.now.suppressed:
            parts.append(f"{high.now} met the high-harm threshold for tasking")
        if parts:
            s = "The force dealt with " + " and ".join(parts)
            if not no_order.now.suppressed and no_order.now.value:
                s += (
                    f"; {no_order.now} of the high-harm perpetrators had no active protective order"
                )
            out.append(s + ".")
    hot = figures.get("hot_cells")
    share = figures.get("hot_share")
    if hot is not None and not hot.now.suppressed and hot.now.value == 0:
        out.append(
            "No grid cell was predicted as a hotspot this quarter: recorded stalking "
            "locations were dispersed across the force area."
        )
    elif hot is not None and not hot.now.suppressed and share is not None:
        s = f"{hot.now} grid cells were predicted hotspots (method chosen by back-test)"
        if not share["now"].suppressed and share["now"].value is not None:
            s += f", holding {share['now']} of located stalking crimes"
        out.append(s + ".")
    spo: Figure3 | None = figures.get("spo_active")
    if spo is not None and not spo.now.suppressed:
        phrase = _change_phrase(spo, "year")
        out.append(
            f"{spo.now} stalking protection orders were in force at the end of the quarter"
            + (f"; the number {phrase}." if phrase else ".")
        )
    worst = figures.get("compliance_worst")
    if worst:
        out.append(
            f"The weakest Victims' Code or SPO measure was {worst['measure'].lower()} at "
            f"{worst['now']} (same quarter last year: {worst['year_ago']})."
        )
    fc = figures.get("forecast")
    if fc and fc.get("next_year") is not None and fc.get("last_year"):
        change = (fc["next_year"] - fc["last_year"]) / fc["last_year"]
        out.append(
            f"Demand ({fc['series']}) is forecast at about {fc['next_year']:,.0f} in "
            f"{fc['next_label']} against {fc['last_year']:,.0f} recorded in {fc['last_label']} "
            f"({change:+.0%}); ranges and how the method fared in tests are in the forecast "
            "section."
        )
    return out
