"""The five extracts of ../shared/spec/extracts.md as data: column names, types and whether
required. The loader and the contract suites are both driven from here."""

from __future__ import annotations

from dataclasses import dataclass

# Boundary files a delivery may carry beside the five extracts (WGS84 GeoJSON): the force
# area for the location rule and the map outline, and named districts for the places section.
AREA_FILE_NAME = "force_area.geojson"
DISTRICTS_FILE_NAME = "districts.geojson"
BOUNDARY_FILE_NAMES = (AREA_FILE_NAME, DISTRICTS_FILE_NAME)
# What applying a mapping file noticed and did not stop for (a date format no value confirms),
# per extract, written beside the mapped copy: the loader keeps it in raw.load_log.
MAPPING_NOTES_FILE_NAME = ".spp-mapping-notes.json"

# Spec type -> DuckDB type.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "bool": "BOOLEAN",
    "float": "DOUBLE",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    required: bool = False


@dataclass(frozen=True)
class Extract:
    name: str
    columns: tuple[Column, ...]
    key: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required or c.name == self.key]


# In load order, parents first: each extract's contract reads the ones before it.
EXTRACTS: dict[str, Extract] = {
    e.name: e
    for e in (
        Extract(
            "crimes",
            key="crime_id",
            columns=(
                Column("crime_id", required=True),
                Column("reported_date", "date", required=True),
                Column("offence_start", "timestamp"),
                Column("offence_end", "timestamp"),
                Column("offence_code", required=True),
                Column("offence_description"),
                Column("included_offence_codes"),
                Column("is_domestic_abuse", "bool", required=True),
                Column("is_online", "bool", required=True),
                Column("latitude", "float"),
                Column("longitude", "float"),
                Column("location_type"),
                Column("outcome_code"),
                Column("outcome_date", "date"),
                Column("needs_assessment_date", "date"),
                Column("support_referral_date", "date"),
                Column("right_to_review_informed", "bool"),
                Column("spo_considered", "bool"),
                Column("spo_not_pursued_reason"),
                Column("risk_level"),
            ),
        ),
        Extract(
            "crime_persons",
            columns=(
                Column("crime_id", required=True),
                Column("person_id", required=True),
                Column("role", required=True),
                Column("forename"),
                Column("surname"),
                Column("date_of_birth", "date"),
                Column("sex"),
                Column("postcode"),
                Column("relationship_to_victim"),
            ),
        ),
        Extract(
            "intelligence",
            key="intel_id",
            columns=(
                Column("intel_id", required=True),
                Column("submitted_date", "date", required=True),
                Column("grading"),
                Column("subject_person_id"),
                Column("subject_forename"),
                Column("subject_surname"),
                Column("subject_date_of_birth", "date"),
                Column("victim_person_id"),
                Column("crime_id"),
                Column("is_stalking_related", "bool", required=True),
                Column("is_online", "bool"),
                Column("latitude", "float"),
                Column("longitude", "float"),
            ),
        ),
        Extract(
            "orders",
            key="order_id",
            columns=(
                Column("order_id", required=True),
                Column("order_type", required=True),
                Column("status", required=True),
                Column("subject_person_id"),
                Column("subject_forename"),
                Column("subject_surname"),
                Column("subject_date_of_birth", "date"),
                Column("protected_person_id"),
                Column("applied_date", "date"),
                Column("granted_date", "date"),
                Column("expiry_date", "date"),
                Column("crime_id"),
            ),
        ),
        Extract(
            "breaches",
            key="breach_id",
            columns=(
                Column("breach_id", required=True),
                Column("order_id", required=True),
                Column("breach_date", "date", required=True),
                Column("crime_id"),
                Column("action_taken"),
            ),
        ),
    )
}
