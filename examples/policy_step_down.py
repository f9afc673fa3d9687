"""Policy question: should every inpatient discharge step down to IOP?

Compare two scenarios on the standard pathway over one year:

- **direct discharge**: a patient ready to leave inpatient / residential care is
  discharged (episode completed) without a planned step-down;
- **mandatory step-down**: every such patient steps down to intensive outpatient
  care (IOP), or to the placement when IOP does not fit.

Both run on common random numbers (patient ``i`` draws the same numbers for the
same purpose in both scenarios) over several replications, so the differences
and their 95% intervals reflect the policy rather than the luck of the draw.
The costs per day are illustrative figures, not published rates.

Run with ``python examples/policy_step_down.py``.
"""

from __future__ import annotations

from typing import Final

from carepath.sim import SimulationModel, compare

PATIENTS: Final = 1500
REPLICATIONS: Final = 5
SEED: Final = 2026
COST_PER_DAY: Final = {  # illustrative only
    "detox": 900.0,
    "inpatient": 550.0,
    "php": 350.0,
    "iop": 150.0,
    "sober_living": 40.0,
    "outpatient": 60.0,
}
SHOWN: Final = {
    "follow_up_14d": "follow-up within 14 days of detox / inpatient discharge",
    "follow_up_30d": "follow-up within 30 days of detox / inpatient discharge",
    "readmission_30d": "new episode within 30 days of an outcome",
    "readmission_90d": "new episode within 90 days of an outcome",
    "relapses_per_patient": "relapses in care per patient",
    "completed[inpatient]": "inpatient stays completed or stepped down",
    "completed[iop]": "IOP stays completed or stepped down",
    "days_per_patient[iop]": "IOP days per patient",
    "days_per_patient[total]": "days of care per patient",
    "cost_per_patient": "cost per patient (illustrative rates)",
}


def scenarios() -> tuple[SimulationModel, SimulationModel]:
    """The two models: direct discharge from inpatient care, and mandatory step-down."""
    base = SimulationModel.default().with_levels(cost_per_day=COST_PER_DAY)
    direct = base.with_levels(continuation={"inpatient": 0.0})
    step_down = base.with_levels(continuation={"inpatient": 1.0}, step_down_to={"inpatient": "iop"})
    return direct, step_down


def main() -> None:
    direct, step_down = scenarios()
    result = compare(direct, step_down, n=PATIENTS, seed=SEED, replications=REPLICATIONS)
    table = result.table.loc[list(SHOWN)]
    print(
        f"Mandatory step-down to IOP vs direct discharge after inpatient care\n"
        f"({PATIENTS:,} patients x 365 days, {REPLICATIONS} replications, seed {SEED})\n"
    )
    print(f"{'statistic':58} {'direct':>9} {'step-down':>10} {'difference (95% CI)':>28}")
    for metric, label in SHOWN.items():
        row = table.loc[metric]
        print(
            f"{label:58} {row['a']:9.3f} {row['b']:10.3f} "
            f"{row['difference']:+9.3f} ({row['ci_low']:+.3f} to {row['ci_high']:+.3f})"
        )


if __name__ == "__main__":
    main()
