"""The report's headline and settings: the gains and the costs of the reform as cards, in words a PDU head reads
without a key (money "more" or "less", never a sign to decode), and the policy settings and parameter overrides the
run used (scenario.resolved.json)."""

from __future__ import annotations

from typing import Any

from workload.report.formats import _missing, gbp, hours, pct
from workload.scenario import Output, Policy

CONTINUITY_TEXT = {
    "keep": "continuity = keep: no case held today changes practitioner; only cases without one are placed",
    "rebalance": "continuity = rebalance: cases may move, up to the move budget per PDU ({budget})",
    "free": "continuity = free: any case may move, at a price per move (for comparison only)",
}
"""How the moves card words ``policy.continuity``."""


def money_in_words(value: Any, subject: str = "than today") -> str:
    """A difference of money as a reader says it: "£46,692 a year less than today" (no minus sign to decode)."""
    if _missing(value):
        return "not shown (too few cases)"
    amount = float(value)
    if round(amount) == 0:
        return f"about the same {subject.replace('than', 'as')}".strip()
    word = "more" if amount > 0 else "less"
    return f"{gbp(abs(amount))} a year {word} {subject}".strip()


def _count(value: Any, threshold: int, noun: str) -> str:
    if _missing(value):
        return f"fewer than {threshold} {noun}"
    n = round(float(value))
    return f"{n:,} {noun if n != 1 else noun.rstrip('s')}"


def headline_cards(summary: dict[str, Any], policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The headline as cards, gains first and then costs: each a title, the reform's figure, what it is against,
    and ``cost`` set where the figure is a cost the reader should weigh (moves, red band, shortfall, overflow,
    more money)."""
    base, reform = summary["baseline"], summary["reform"]
    cells = summary["cells"]
    threshold = int(summary["suppression_threshold"])
    net = summary.get("net_whole_life_cost_reform_vs_baseline")
    red_today, red_base = summary.get("practitioners_red_current"), summary.get("practitioners_red_baseline")
    red_reform = summary.get("practitioners_red_reform")
    shortfall = summary.get("statutory_shortfall_hours")
    overflow = summary.get("overflow_hours", 0.0)
    moved = cells[reform].get("moved")
    continuity = str(policy.get("continuity", summary.get("continuity", "keep")))
    budget = (
        f"at most {policy['max_moves']} cases or {pct(policy.get('max_moves_share'))} of the cases held"
        if policy.get("max_moves") is not None
        else f"{pct(policy.get('max_moves_share'))} of the cases held"
    )
    fte = summary["fte"]
    return [
        {
            "title": "Assessed need met",
            "big": pct(cells[reform]["coverage"]),
            "vs": f"under the reform, against {pct(cells[base]['coverage'])} with the WMT today",
        },
        {
            "title": "Unmet need",
            "big": hours(cells[reform]["unmet_hours"]) + " h a year",
            "vs": (
                f"today's figure is not shown: fewer than {threshold} cases get more than their need today, and "
                "it would reveal their hours"
                if _missing(cells[base]["unmet_hours"])
                else f"against {hours(cells[base]['unmet_hours'])} h a year today"
            ),
        },
        {
            "title": "Women: assessed need met",
            "big": pct(summary["coverage_women"].get(reform)),
            "vs": f"against {pct(summary['coverage_women'].get(base))} today (men: "
            f"{pct(summary['coverage_men'].get(reform))} against {pct(summary['coverage_men'].get(base))})",
        },
        {
            "title": '"Low risk, complex needs": need met',
            "big": pct(summary["coverage_low_risk_complex"].get(reform)),
            "vs": f"against {pct(summary['coverage_low_risk_complex'].get(base))} today",
        },
        {
            "title": "Whole-life cost, reform against today",
            "big": money_in_words(net, ""),
            "vs": "the reform's expected cost a year (staff, partners, reoffending, children, near misses) against today's; "
            "how sure that is: the Sensitivity section",
            "cost": float(net or 0.0) > 0.5,
        },
        {
            "title": "Cases moved to another practitioner",
            "big": _count(moved, threshold, "cases"),
            "vs": CONTINUITY_TEXT.get(continuity, f"continuity = {continuity}").format(budget=budget),
            "cost": _missing(moved) or float(moved) > 0,
        },
        {
            "title": "Practitioners in the red band, reform",
            "big": _count(red_reform, threshold, "practitioners"),
            "vs": f"against {red_today} today on the WMT screen and {red_base} after today's way of allocating the "
            "new cases (workload above the WMT's red threshold)",
            "cost": bool(red_reform),
        },
        {
            "title": "Public-protection minimums short",
            "big": f"fewer than {threshold} cases short" if shortfall is None else f"{hours(shortfall)} h a year",
            "vs": "minimum hours a case's risk of harm requires that the reform cannot give "
            "(allocations.csv: floor_shortfall_hours)",
            "cost": shortfall is None or float(shortfall) > 0,
        },
        {
            "title": "Hours planned above capacity",
            "big": f"{hours(overflow)} h a year",
            "vs": "hours practitioners are planned beyond their capacity to meet public-protection minimums "
            "(pdus.csv and practitioners.csv: overflow_hours)",
            "cost": not _missing(overflow) and float(overflow) > 0,
        },
        {
            "title": "Staff needed to meet all assessed need",
            "big": f"{float(fte['needed_for_assessed_need']):.1f} FTE",
            "vs": f"{float(fte['available']):.1f} FTE available; the WMT's hours need "
            f"{float(fte['needed_for_wmt_hours']):.1f}; what more posts would buy: workload plan",
            "cost": float(fte["needed_for_assessed_need"]) > float(fte["available"]),
        },
    ]


def _first_sentence(text: str | None) -> str:
    if not text:
        return ""
    return text.split(". ")[0].rstrip(".") + "."


def _value(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def settings_view(resolved: dict[str, Any], units: dict[str, str]) -> dict[str, Any]:
    """The Settings section: every policy and output setting the run used (defaults filled in, those a scenario
    changed marked), and each parameter override with its unit."""
    rows = []
    for section, model in (("policy", Policy), ("output", Output)):
        given = resolved.get(section, {})
        for name, field in model.model_fields.items():
            if name not in given:
                continue
            rows.append(
                {
                    "name": f"{section}.{name}",
                    "value": _value(given[name]),
                    "default": given[name] == field.default,
                    "what": _first_sentence(field.description),
                }
            )
    overrides = [
        {"path": path, "value": _value(value), "unit": units.get(path, "")}
        for path, value in sorted(resolved.get("parameters_overridden", {}).items())
    ]
    return {"rows": rows, "overrides": overrides}
