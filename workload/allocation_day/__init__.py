"""Allocation day (``workload allocate``): a ranked, explained shortlist of practitioners for each new case and
the best assignment of the week's batch, written as a folder for the allocation meeting (docs/allocate.md)."""

from workload.allocation_day.plan import AllocationDay, plan_allocation_day
from workload.allocation_day.write import read_new_cases, write_allocation_day

__all__ = ["AllocationDay", "plan_allocation_day", "read_new_cases", "write_allocation_day"]
