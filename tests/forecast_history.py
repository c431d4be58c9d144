"""A synthetic stage-history export for the forecast's surfaces (issue 24): finished deals going
through enterprise-map's phases, named as the template names them, with log-normal business days."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

PHASES = ["Discovery", "Solution validation", "Technical & security review", "Business case", "Legal",
          "Procurement", "Signature", "Kickoff"]
DAYS = [10, 15, 15, 10, 15, 10, 3, 5]  # enterprise-map's own days: the medians drawn around


# Salesforce's stock stages where enterprise-map's crm: lists name one; the others mapped with --map.
CRM_STAGES = ["Qualification", "Needs Analysis", "Technical Review", "Perception Analysis", "Proposal/Price Quote",
              "Negotiation/Review", "Signing", "Onboarding"]
CRM_MAPS = ["Technical Review=security", "Signing=signature", "Onboarding=kickoff"]


def write_export(path: Path, deals: int, *, seed: int = 5, stretch: float = 1.0, lost: float = 0.0,
                 stages: list[str] = PHASES) -> Path:
    """``deals`` finished deals; ``stretch`` scales every phase's median; each phase loses a deal
    with chance ``lost``; ``stages`` names the phases in the export (CRM_STAGES: as a CRM does)."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["id", "stage", "changed_at"])
        for n in range(deals):
            at, ended = datetime(2025, 1, 6, 10) + timedelta(days=n * 2), "Closed Won"
            for phase, days in zip(stages, DAYS, strict=True):
                out.writerow([f"D{n:04d}", phase, at.isoformat() + "Z"])
                step = int(np.ceil(rng.lognormal(np.log(days * stretch), 0.3)))
                day = np.busday_offset(np.datetime64(at.date()), step, roll="forward").astype(object)
                at = datetime.combine(day, at.time())
                if rng.random() < lost:
                    ended = "Closed Lost"
                    break
            out.writerow([f"D{n:04d}", ended, at.isoformat() + "Z"])
    return path
