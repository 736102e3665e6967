"""The scenario format: the single source of truth for what a planner's files may contain.

A scenario is a ``scenario.toml`` that names its tables (cases, practitioners, optional partners) as CSV or
XLSX files relative to itself, plus parameter overrides and policy options. The pydantic models below define
every field; the loader (:mod:`workload.load`) checks tables column by column against them, the JSON Schema
(``workload schema``) and docs/scenario-format.md are generated from them.

Case data is sensitive personal data: the case table carries a pseudonymous ``case_id`` and the facts the
model needs, never names, dates of birth, addresses or CRN/PNC numbers.
"""

from __future__ import annotations

import re
from enum import Enum, IntEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, field_validator
from pydantic_core import PydanticCustomError, core_schema

from workload.errors import FORMAT_CHARACTER, FORMAT_CHARACTERS

CONTROL_CHARACTERS = re.compile(rf"[\x00-\x1f\x7f-\x9f\u2028\u2029{FORMAT_CHARACTERS}]")
"""Tabs, line breaks and other control characters, and invisible format characters (zero-width spaces, bidi
overrides, byte-order marks: :data:`workload.errors.FORMAT_CHARACTERS`): refused in free text, table paths and
the scenario's name (a no-break space from Excel is fine)."""

CONTROL_CHARACTERS_BUT_LAYOUT = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029{FORMAT_CHARACTERS}]")
"""Control and format characters other than tabs and line breaks: refused in longer text (a description) that
may run over several lines."""

TOTAL_LABEL = "Total"
"""The label of the row that ends every group table."""
BLANK_LABEL = "(blank)"
"""The label of the group of cases left blank in the grouping column."""
SMALL_GROUPS_LABEL = "(small groups)"
"""The label of the row pooling groups too small to show (disclosure rule 1)."""
SMALL_PDUS_LABEL = "(small PDUs)"
"""The label of the row pooling PDUs too small to show (disclosure rule 1)."""
ALL_PDUS_LABEL = "(all)"
"""The label of the rows that total a sweep's variant over its PDUs."""

RESERVED_LABELS: tuple[str, ...] = (TOTAL_LABEL, BLANK_LABEL, SMALL_GROUPS_LABEL, SMALL_PDUS_LABEL, ALL_PDUS_LABEL)
"""Row labels the published tables use themselves. A group value or id that equals one of them (in any case,
spaces around ignored) or ends like a merged row's label (``<group> + small groups``, ``<PDU> + small PDUs``)
is refused (:func:`reserved_label_problem`), so no published row is ambiguous."""

POOLED_SUFFIXES: tuple[str, ...] = ("small groups", "small pdus")
"""How the label of a row holding pooled small groups or PDUs ends (case-folded)."""

RESERVED_LABEL_MESSAGE = (
    "is a label the published tables keep for totals and pooled groups ("
    + ", ".join(RESERVED_LABELS)
    + ", '… + small groups', '… + small PDUs'); rename the group"
)
"""Why a reserved label is refused (after the value)."""

_RESERVED_FOLDED = frozenset(label.casefold() for label in RESERVED_LABELS)


def reserved_label_problem(value: str) -> str | None:
    """Why ``value`` cannot be a group or id that labels rows of published tables, or None when it can."""
    folded = FORMAT_CHARACTER.sub("", value).strip().casefold()
    if folded in _RESERVED_FOLDED or folded.endswith(POOLED_SUFFIXES):
        return RESERVED_LABEL_MESSAGE
    return None


def _not_reserved(value: str) -> str:
    if reserved_label_problem(value) is not None:
        raise PydanticCustomError("reserved_label", RESERVED_LABEL_MESSAGE)
    return value


class RowLabel:
    """Field metadata: the field's values label rows of published tables (a group, a PDU, an id), so
    :data:`RESERVED_LABELS` and their look-alikes are refused. Pydantic enforces it on a row; the loader
    reads the marker off the model and checks whole columns the same way."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_not_reserved, handler(source))

    def __repr__(self) -> str:
        return "RowLabel()"


ROW_LABEL = RowLabel()


class Tier(str, Enum):
    """2021 unified tier: protect level A-D (risk of serious harm) x change level 3-0; S = unsupervised."""

    A3 = "A3"
    A2 = "A2"
    A1 = "A1"
    A0 = "A0"
    B3 = "B3"
    B2 = "B2"
    B1 = "B1"
    B0 = "B0"
    C3 = "C3"
    C2 = "C2"
    C1 = "C1"
    C0 = "C0"
    D3 = "D3"
    D2 = "D2"
    D1 = "D1"
    D0 = "D0"
    A3S = "A3S"
    A2S = "A2S"
    A1S = "A1S"
    A0S = "A0S"
    B3S = "B3S"
    B2S = "B2S"
    B1S = "B1S"
    B0S = "B0S"
    C3S = "C3S"
    C2S = "C2S"
    C1S = "C1S"
    C0S = "C0S"
    D3S = "D3S"
    D2S = "D2S"
    D1S = "D1S"
    D0S = "D0S"
    untiered = "untiered"


SUPERVISED_TIERS: tuple[str, ...] = tuple(t.value for t in Tier if len(t.value) == 2)
"""The 16 supervised tiers A3..D0, in the WMT's column order (highest first)."""


class CaseType(str, Enum):
    """Where the case is in its sentence: the WMT's three weight columns."""

    community = "community"
    licence = "licence"
    custody = "custody"


class Grade(str, Enum):
    """Practitioner grade: probation officer, probation services officer, trainee, senior."""

    PO = "PO"
    PSO = "PSO"
    PQiP = "PQiP"
    SPO = "SPO"


class Sex(str, Enum):
    """Sex as recorded. Used to report equity, never to score need."""

    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class Rosh(str, Enum):
    """OASys risk of serious harm level."""

    low = "low"
    medium = "medium"
    high = "high"
    very_high = "very_high"


class Severity(IntEnum):
    """OASys need severity: 0 no need, 1 standard, 2 severe."""

    none = 0
    standard = 1
    severe = 2


class Flag(IntEnum):
    """A yes/no fact: 1 yes, 0 no (true/false and yes/no are accepted in files)."""

    no = 0
    yes = 1


class Specialism(str, Enum):
    """Trained specialisms a practitioner can hold (a women's specialist pool draws on ``women``)."""

    women = "women"
    substance_misuse = "substance_misuse"
    sex_work = "sex_work"
    domestic_abuse = "domestic_abuse"
    mental_health = "mental_health"
    young_adults = "young_adults"


class PartnerKind(str, Enum):
    """What sort of agency a partner is."""

    womens_centre = "womens_centre"
    substance_misuse_service = "substance_misuse_service"
    housing = "housing"
    mental_health = "mental_health"
    domestic_abuse_service = "domestic_abuse_service"
    employment = "employment"
    other = "other"


OASYS_NEEDS: tuple[str, ...] = (
    "accommodation",
    "ete",
    "finance",
    "relationships",
    "lifestyle",
    "drugs",
    "alcohol",
    "emotional_wellbeing",
    "thinking_behaviour",
    "attitudes",
)
"""The ten OASys need sections, each scored 0/1/2 (finance and emotional wellbeing included)."""

RESEARCH_FLAGS: tuple[str, ...] = (
    "domestic_abuse_victim",
    "sexual_violence_victim",
    "sex_work",
    "dependent_children",
    "pregnant",
    "self_harm_history",
    "suicide_attempt_history",
    "care_experienced",
    "overdose_history",
)
"""Needs and experiences the research shows matter (yes/no). Experiences, never diagnoses."""


class NeedArea(str, Enum):
    """Need areas a partner agency can deliver: an OASys section or a research-highlighted need."""

    accommodation = "accommodation"
    ete = "ete"
    finance = "finance"
    relationships = "relationships"
    lifestyle = "lifestyle"
    drugs = "drugs"
    alcohol = "alcohol"
    emotional_wellbeing = "emotional_wellbeing"
    thinking_behaviour = "thinking_behaviour"
    attitudes = "attitudes"
    domestic_abuse_victim = "domestic_abuse_victim"
    sexual_violence_victim = "sexual_violence_victim"
    sex_work = "sex_work"
    dependent_children = "dependent_children"
    pregnant = "pregnant"
    self_harm_history = "self_harm_history"
    suicide_attempt_history = "suicide_attempt_history"
    care_experienced = "care_experienced"
    overdose_history = "overdose_history"


Id = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"),
    ROW_LABEL,
]
"""A pseudonymous identifier: letters, digits, '_', '.', '-' (no spaces, no names), never a reserved label."""

NeedSeverity = Annotated[Severity, Field(description="OASys need severity: 0 none, 1 standard, 2 severe")]
YesNo = Annotated[Flag, Field(description="1 yes, 0 no")]


class CaseRecord(BaseModel):
    """One row of the case table: one person on probation, pseudonymised."""

    model_config = ConfigDict(extra="forbid")

    case_id: Id = Field(description="Pseudonymous case identifier, unique in the scenario. Never a CRN or PNC number.")
    pdu: Id = Field(description="Probation delivery unit the case belongs to.")
    sex: Sex = Field(
        description="Sex as recorded; reported for equity, never used to score need. Read otherwise only as HMPPS "
        "tiering reads it: the additional factors for women count in an untiered case's derived protect level for a "
        "recorded woman."
    )
    ethnicity: Annotated[str, Field(max_length=40), ROW_LABEL] | None = Field(
        default=None,
        description="Ethnic group as recorded (optional; reported for equity). Not 'Total', '(blank)', "
        "'(small groups)', '(small PDUs)', '(all)' or one ending 'small groups' or 'small PDUs': the published "
        "tables keep those for totals and pooled groups.",
    )
    case_type: CaseType = Field(description="community, licence or custody (pre-release).")
    tier: Tier = Field(description="2021 unified tier A3..D0, an S tier when unsupervised, or untiered.")
    rosh: Rosh = Field(description="Risk of serious harm level.")
    mappa_level: int = Field(ge=0, le=3, description="MAPPA level, 0 when not a MAPPA case.")
    months_on_order: float = Field(
        ge=0, le=600, description="Months since the order or licence started (relationship time is front-loaded)."
    )
    accommodation: NeedSeverity
    ete: NeedSeverity = Field(description="Education, training and employment need.")
    finance: NeedSeverity
    relationships: NeedSeverity
    lifestyle: NeedSeverity = Field(description="Lifestyle and associates need.")
    drugs: NeedSeverity = Field(description="Drug misuse need.")
    alcohol: NeedSeverity = Field(description="Alcohol misuse need.")
    emotional_wellbeing: NeedSeverity
    thinking_behaviour: NeedSeverity = Field(description="Thinking and behaviour need.")
    attitudes: NeedSeverity
    domestic_abuse_victim: YesNo = Field(description="Has experienced domestic abuse.")
    sexual_violence_victim: YesNo = Field(description="Has experienced sexual violence.")
    sex_work: YesNo = Field(description="Involved in sex work.")
    dependent_children: YesNo = Field(
        description="Primary carer of dependent children. For a recorded woman with no tier and a valid assessment, "
        "it stands in for OASys 6.9 parenting responsibilities, an additional factor for women in her derived "
        "protect level."
    )
    pregnant: YesNo
    self_harm_history: YesNo = Field(description="History of self-harm.")
    suicide_attempt_history: YesNo = Field(description="History of suicide attempts.")
    care_experienced: YesNo = Field(description="Was in local-authority care as a child.")
    overdose_history: YesNo = Field(description="Has overdosed (a 'near miss').")
    breach_recall_12m: YesNo = Field(
        description="Breach or recall in the last 12 months (Delius 'previous enforcement activity'). For a recorded "
        "woman with no tier, one of the additional factors for women in her derived protect level."
    )
    rsr_pct: float = Field(
        default=0,
        ge=0,
        le=100,
        description="Risk of Serious Recidivism score, percent (optional; blank or absent is 0, as HMPPS tiering "
        "counts a missing RSR). Read only to derive the protect level of a case with no tier: 7.00-99.99 scores "
        "20 points, 3.00-6.99 10 points, anything else 0; only the larger of the RSR and RoSH points counts.",
    )
    reoffending_likelihood_pct: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Likelihood of proven reoffending within a year, percent (optional): an OGRS or OGP one-year score "
        "where the planner has one. Read only by the cost model; blank or absent, it is derived from the case's OASys "
        "need severities and protect level (docs/model.md, Costs).",
    )
    complexity_registrations: int = Field(
        default=0,
        ge=0,
        le=10,
        description="Number of distinct active complexity registrations in Delius (optional; blank or absent is 0): "
        "mental health (RMDO), self-harm (ALSH), vulnerability (RVLN), child concerns (RCCO), child protection "
        "(RCPR), risk to children (RCHD), public interest (RPIR), adult at risk (RVAD), street gangs (STRG), "
        "terrorism (RTAO); count each code once. Read only to derive the protect level of a case with no tier.",
    )
    impulsivity_or_temper: YesNo = Field(
        default=Flag.no,
        description="OASys 11.2 impulsivity or 11.4 temper control answered 'some' or 'significant problems' "
        "(optional; blank or absent is 0). For a recorded woman with no tier and a valid assessment, one of the "
        "additional factors for women in her derived protect level.",
    )
    valid_assessment: YesNo = Field(
        default=Flag.yes,
        description="1 when the case has a valid OASys assessment (the latest complete layer 3, within 55 weeks), "
        "0 when not (optional; blank or absent is 1, as the table's need columns come from an assessment). Without "
        "one, HMPPS tiering scores neither parenting (dependent_children) nor impulsivity_or_temper for a woman.",
    )
    current_practitioner_id: Id | None = Field(
        default=None, description="Practitioner who holds the case now; blank when unallocated."
    )


class PractitionerRecord(BaseModel):
    """One row of the practitioner table: one member of staff who can hold cases."""

    model_config = ConfigDict(extra="forbid")

    practitioner_id: Id = Field(description="Pseudonymous staff identifier, unique in the scenario.")
    pdu: Id = Field(description="Probation delivery unit the practitioner works in.")
    grade: Grade = Field(description="PO, PSO, PQiP (trainee) or SPO (senior; holds no cases by default).")
    contracted_hours_per_week: float = Field(gt=0, le=60, description="Contracted hours a week (37 is full time).")
    reduction_hours_per_week: float = Field(
        default=0, ge=0, le=60, description="WMT reduction hours a week (training, union duties, phased return...)."
    )
    specialisms: list[Specialism] = Field(
        default_factory=list, description="Trained specialisms, separated by ';' (e.g. women;substance_misuse)."
    )
    standard_reports_30d: int = Field(
        default=0, ge=0, le=100, description="Standard court reports completed in the last 30 days."
    )
    fast_reports_30d: int = Field(
        default=0, ge=0, le=200, description="Fast (short-format) court reports in the last 30 days."
    )


class PartnerRecord(BaseModel):
    """One row of the partner table: an agency whose hours the allocator may buy."""

    model_config = ConfigDict(extra="forbid")

    partner_id: Id = Field(description="Identifier of the partner agency, unique in the scenario.")
    pdus: list[Id] = Field(min_length=1, description="PDUs the partner serves, separated by ';'.")
    kind: PartnerKind = Field(description="What sort of agency it is.")
    contract_hours_per_year: float = Field(ge=0, le=1_000_000, description="Hours a year the contract buys at most.")
    price_per_hour: float = Field(ge=0, le=1000, description="Price of one hour of the partner's work, GBP.")
    need_areas: list[NeedArea] = Field(
        min_length=1,
        description="Need areas the partner can deliver, separated by ';' (e.g. domestic_abuse_victim;emotional_wellbeing).",
    )
    women_only: YesNo = Field(description="1 when the partner works with women only.")


class Tables(BaseModel):
    """Where the tables are: CSV, XLSX or Parquet paths relative to scenario.toml, inside its folder; a workbook's path
    may name one of its sheets after ``#`` (several tables may be sheets of one workbook)."""

    model_config = ConfigDict(extra="forbid")

    cases: str = Field(
        description='Case table (CSV, XLSX or Parquet); "extract.xlsx#Cases" reads the workbook\'s sheet "Cases" (else its first).'
    )
    practitioners: str = Field(
        description='Practitioner table (CSV, XLSX or Parquet); "extract.xlsx#Staff" reads the sheet "Staff" of a workbook.'
    )
    partners: str | None = Field(
        default=None, description="Partner agency table (optional; CSV, Parquet, or XLSX with #Sheet as for cases)."
    )


class Policy(BaseModel):
    """Policy options: how need is scored and what the allocator may and may not do."""

    # inf or nan (both valid TOML) would make the allocator's objective or limits meaningless
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    scoring_mode: Literal["full", "budget-neutral"] = Field(
        default="full",
        description="full: hours that meet assessed need. budget-neutral: scaled so total hours equal the WMT baseline's.",
    )
    objective: Literal["need", "whole_life_cost"] = Field(
        default="need",
        description=(
            "need: an unmet hour of each case weighs by the priority rules (allocation.priority). whole_life_cost: it "
            "weighs in proportion to the whole-life cost (GBP) an hour of that case saves (reoffending, children's care "
            "placements, near misses; costs.objective.max_weight caps it); public-protection minimums stay hard floors "
            "either way."
        ),
    )
    women_specialist_pool: Literal["off", "soft", "hard"] = Field(
        default="off",
        description="Concentrate women's cases among practitioners with the 'women' specialism: hard forbids others, soft penalises them.",
    )
    specialist_pool_penalty: float = Field(
        default=0.5, ge=0, description="Soft pool: objective penalty per hour a non-specialist gives a woman's case."
    )
    caseload_cap: int | None = Field(
        default=None, ge=1, description="Most cases one practitioner may hold (per whole-time equivalent)."
    )
    continuity: Literal["keep", "rebalance", "free"] = Field(
        default="keep",
        description=(
            "keep: every case stays with its current practitioner when that practitioner is in its PDU and has case "
            "hours; only cases without one are placed. rebalance: moves allowed up to max_moves / max_moves_share per "
            "PDU, never for cases in their relationship-building window or with an abuse or trauma history unless "
            "move_protected; a move restarts the case's relationship-building hours. free: any case may move, at "
            "continuity_penalty each (for comparison)."
        ),
    )
    max_moves: int | None = Field(
        default=None,
        ge=0,
        description="rebalance: most cases moved per PDU (a count); the smaller of this and max_moves_share applies.",
    )
    max_moves_share: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="rebalance: most cases moved per PDU, as a share of the cases its practitioners hold today.",
    )
    move_protected: bool = Field(
        default=False,
        description=(
            "rebalance: also let cases in their relationship-building window or with an abuse or trauma history move."
        ),
    )
    continuity_penalty: float = Field(
        default=20.0,
        ge=0,
        description=(
            "rebalance and free: objective price of moving a case away from its current practitioner (weighted "
            "hours), on top of the relationship-building hours the move restarts."
        ),
    )
    budget_cap_gbp: float | None = Field(
        default=None, ge=0, description="Most that staff plus partner hours may cost in a year, GBP."
    )
    use_partners: bool = Field(default=True, description="Let the allocator buy hours from partner agencies.")
    exact: bool = Field(
        default=False, description="Solve the exact one-practitioner MIP (small PDUs only) instead of LP + rounding."
    )
    neighbourhood: bool = Field(
        default=True,
        description=(
            "rebalance and free: after rounding, solve the exact MIP on the LP's neighbourhood of the allocation "
            "when it is more than 1% above the LP bound (better moves; seconds a PDU; false for quick sweeps)."
        ),
    )
    solver: Literal["highs", "pulp-highs", "pulp-cbc"] = Field(
        default="highs", description="highs: arrays straight to HiGHS (fast). pulp-*: the portable PuLP hand-off."
    )
    time_limit_seconds: float = Field(default=120.0, gt=0, description="Solver time limit per PDU.")
    workers: int | None = Field(default=None, ge=1, description="Parallel PDU solves; default: the machine's cores.")


class Output(BaseModel):
    """How results are published."""

    model_config = ConfigDict(extra="forbid")

    suppression_threshold: int = Field(
        default=5,
        ge=0,
        description="Published tables hide cells counting fewer cases than this (0 turns suppression off).",
    )
    tradeoff: bool | Literal["auto"] = Field(
        default="auto",
        description=(
            "Show the trade-off between public protection and need equity: the needs-scored LP re-solved at the "
            "protection weights of outcomes.tradeoff.protection_weights (each weight but 1 adds one more solve). "
            "auto: only for scenarios of at most outcomes.tradeoff.auto_max_cases cases (the re-solves would double a "
            "national run's time); true: always; false: never. Sweeps never compute it."
        ),
    )


SimulatePolicy = Literal["wmt_list", "need_aware", "lp"]
SIMULATE_POLICIES: tuple[SimulatePolicy, ...] = ("wmt_list", "need_aware", "lp")
"""The allocation policies `workload simulate` compares (docs/simulate.md)."""


class Simulate(BaseModel):
    """`workload simulate`: a PDU week by week (docs/simulate.md). Command-line options override these."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    weeks: int = Field(default=52, ge=1, le=260, description="Weeks to simulate.")
    replications: int = Field(default=20, ge=1, le=1000, description="Replications (independent years of events).")
    seed: int | None = Field(default=None, ge=0, description="Seed of the events; default the scenario's seed.")
    policies: list[SimulatePolicy] = Field(
        default_factory=lambda: list(SIMULATE_POLICIES),
        min_length=1,
        description=(
            "Allocation policies compared on the same events: wmt_list (today's choose-practitioner list, lowest "
            "workload %), need_aware (most hours free after the case), lp (the LP allocator with lp_continuity)."
        ),
    )
    lp_continuity: Literal["keep", "rebalance"] = Field(
        default="keep", description="The lp policy's continuity rule (keep: only new and orphaned cases placed)."
    )
    lp_replan_weeks: int = Field(
        default=4,
        ge=1,
        le=52,
        description=(
            "The lp policy re-plans every caseload's hours with the full LP every this many weeks (1: every week); "
            "in the weeks between, a small LP places only the new and orphaned cases in the hours freed since."
        ),
    )
    arrivals_per_week: float | None = Field(
        default=None,
        ge=0,
        le=10_000,
        description=(
            "Mean new cases a week (Poisson); default the caseload's size over the mean length of its orders in "
            "weeks, which keeps the caseload steady."
        ),
    )
    expected_arrivals: list[float] | None = Field(
        default=None,
        min_length=1,
        description="Mean new cases of each week in turn (repeated when shorter than weeks); overrides arrivals_per_week.",
    )
    workers: int | None = Field(default=None, ge=1, description="Worker processes; default the machine's cores.")

    @field_validator("expected_arrivals")
    @classmethod
    def _arrivals_not_negative(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(v < 0 for v in value):
            raise PydanticCustomError("negative", "has a negative number of arrivals; every week needs 0 or more")
        if value is not None and any(v > 10_000 for v in value):
            raise PydanticCustomError(
                "too_many",
                "has a week of more than 10,000 arrivals, far more than any PDU (or all of England and Wales) takes",
            )
        return value


class ScenarioFile(BaseModel):
    """The contents of scenario.toml."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="Short name shown on reports.")
    description: str = Field(default="", description="What the scenario represents.")
    seed: int = Field(default=0, ge=0, description="Seed for anything random (kept for reproducibility).")
    tables: Tables = Field(description="Where the case, practitioner and partner tables are.")
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="Overrides of model parameters by dotted path, e.g. needs.hours_per_severity.drugs = 14 (see parameters.md).",
    )
    policy: Policy = Field(default_factory=Policy, description="How need is scored and what the allocator may do.")
    output: Output = Field(default_factory=Output, description="How results are published.")
    simulate: Simulate = Field(default_factory=Simulate, description="`workload simulate`: a PDU week by week.")

    @field_validator("name")
    @classmethod
    def _name_is_one_plain_line(cls, value: str) -> str:
        if CONTROL_CHARACTERS.search(value):
            raise PydanticCustomError(
                "control_character",
                "has a control character (a tab, line break or similar) in it; write it on one line of plain text",
            )
        return value

    @field_validator("description")
    @classmethod
    def _description_is_plain_text(cls, value: str) -> str:
        if CONTROL_CHARACTERS_BUT_LAYOUT.search(value):
            raise PydanticCustomError(
                "control_character", "has a control character in it (line breaks and tabs are fine); remove it"
            )
        return value


TABLE_MODELS: dict[str, type[BaseModel]] = {
    "cases": CaseRecord,
    "practitioners": PractitionerRecord,
    "partners": PartnerRecord,
}
"""Each table's row model, by the key that names it in ``[tables]``."""

TABLE_KEYS: dict[str, str] = {"cases": "case_id", "practitioners": "practitioner_id", "partners": "partner_id"}
"""The identifier column of each table."""


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario.toml and of one row of each table."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "workload scenario",
        "description": "scenario.toml and the rows of its tables (cases, practitioners, partners).",
        "scenario.toml": ScenarioFile.model_json_schema(),
        "tables": {name: model.model_json_schema() for name, model in TABLE_MODELS.items()},
    }
