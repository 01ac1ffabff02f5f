"""Data-quality checks on the canonical model (the playbook's "run a data quality check")."""

from leadjourney.quality.checks import CHECKS, Check
from leadjourney.quality.report import CheckResult, QualityReport, run_quality

__all__ = ["CHECKS", "Check", "CheckResult", "QualityReport", "run_quality"]
