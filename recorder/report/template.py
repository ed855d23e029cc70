"""The user's report template: prompt texts for the sections only people can fill.

Prompts keep the template's labels and placeholders (`X,XXX`, `HH:MM`, `SEV1 / SEV2 /
SEV3`). Where the template shows a worked example instead of a prompt (Root Cause, What
Worked Well, …) the example's facts are replaced by "…": a draft must never carry another
incident's details that a skimming reader could take for this one's.

Marker convention: every unfilled prompt renders with the literal token `_To fill in_`
(block prompts as a quoted block whose first line is ``> _To fill in_ (`field`):``,
inline prompts as ``_To fill in_: prompt``), so `grep -n "_To fill in_"` lists exactly
what is left for people. Text the recorder drafted from stored data starts with `_Draft_`.
"""

from __future__ import annotations

TO_FILL_IN = "_To fill in_"
DRAFT = "_Draft_"

REPORT_CREATED_BY_DEFAULT = "Incident Recorder (draft)"
REVIEW_STATUS_DEFAULT = "Pending"

SEVERITY_PROMPT = "SEV1 / SEV2 / SEV3"
TRIAGE_PROMPT = "minutes from alert to triage"
ROOT_CAUSE_TIME_PROMPT = "minutes from alert to root cause"
HOW_DETECTED_PROMPT = "tick how this was detected (not opened by an alert)"

SERVICE_OPTIONS: tuple[str, ...] = (
    "Frontend/UI",
    "Backend API",
    "Database",
    "Payment processing",
    "Authentication",
)
DETECTION_OTHER_OPTIONS: tuple[str, ...] = (
    "User report",
    "Internal team noticed",
    "External vendor notification",
)

PROMPTS: dict[str, str] = {
    "summary": "Brief one-paragraph description of what happened, impact, and current status.",
    "users_affected": (
        "- **Scope**: All users / Partial / Specific region / Specific feature\n"
        "- **Count**: X,XXX users (or percentage)\n"
        "- **Duration**: HH:MM (how long were they affected)"
    ),
    "business_impact": (
        "- **Revenue Lost**: $X,XXX (if calculable)\n"
        "- **Customer Complaints**: X tickets/emails\n"
        "- **Reputation**: Social media mentions, press coverage"
    ),
    "root_cause": (
        "**What broke**: …\n\n"
        "**Why it broke**: …\n\n"
        "**What triggered it**: …\n\n"
        "**Contributing factors**:\n"
        "- …"
    ),
    "immediate_actions": "1. ✅ Action taken (HH:MM)",
    "what_worked_well": "- What helped detection and response (monitoring, runbooks, escalation) …",
    "what_could_be_improved": "- What slowed detection or response, or let this happen …",
    "short_term_fix": "- What restored service …",
    "long_term_fix": "- [ ] Change that prevents recurrence (PRIORITY 1)",
    "internal_communication": (
        "- **Incident channel**: #incident-YYYYMMDD-…\n"
        "- **Participants**: …\n"
        "- **Updates posted**: Every X minutes"
    ),
    "external_communication": (
        "- **Status page**: Updated at HH:MM, HH:MM\n"
        "- **Customer email**: Sent at HH:MM\n"
        "- **Social media**: …"
    ),
    "action_items": (
        "| # | Action | Owner | Priority | Due Date | Status |\n"
        "|---|--------|-------|----------|----------|--------|\n"
        "| 1 | … | … | P1 | YYYY-MM-DD | Pending |"
    ),
    "lessons_went_well": "- ✅ …",
    "lessons_went_wrong": "- ❌ …",
    "lessons_prevent_recurrence": "1. **Area**: action …",
    "related_documentation": (
        "- Runbook: [Name](link)\n"
        "- Post-mortem: [YYYY-MM-DD Incident](link)\n"
        "- Code: [Repository](link)"
    ),
    "commands_run": "```bash\n# Commands run during the incident\n```",
    "report_created_by": REPORT_CREATED_BY_DEFAULT,
    "review_status": "Pending / Reviewed / Approved",
    "reviewed_by": "[Name, Date]",
}
