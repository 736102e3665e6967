"""workload: gender-sensitive, needs-based workload allocation for probation services in England and Wales."""

from __future__ import annotations

__version__ = "0.1.0"
