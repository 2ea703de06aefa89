"""The API calls the workflows by name, so that it starts without their code (and the PDF renderer it imports):
the names it uses are the workflows' own."""

from __future__ import annotations

import subprocess
import sys

from temporalio import workflow

from workflows import contracts
from workflows.dispute import DisputeWorkflow
from workflows.panel import ExpertPanelWorkflow


def test_the_names_the_api_uses_are_the_definitions():
    assert workflow._Definition.must_from_class(DisputeWorkflow).name == contracts.DISPUTE_WORKFLOW
    dispute = workflow._Definition.must_from_class(DisputeWorkflow)
    assert {contracts.APPLY_EVENT, contracts.SNAPSHOT} <= set(dispute.updates)
    assert contracts.CALENDAR_LOADED in dispute.signals
    panel = workflow._Definition.must_from_class(ExpertPanelWorkflow)
    assert set(contracts.PANEL_UPDATES) <= set(panel.updates)


def test_the_api_imports_no_pdf_code():
    """Start fast: the web process never loads WeasyPrint, the signing stack or the workflows' code."""
    code = ("import sys, api.main; heavy = [m for m in ('weasyprint', 'pyhanko', 'workflows.dispute', "
            "'workflows.activities', 'documents.render') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
