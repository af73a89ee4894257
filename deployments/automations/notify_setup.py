"""Point clipmill's batch notifications at a team's chat: a Prefect custom-webhook block, and
the two automations that use it (batch-finished.yaml, batch-low-yield.yaml).

    export PREFECT_API_URL=http://prefect-host:4200/api
    .venv/bin/python deployments/automations/notify_setup.py https://hooks.example.com/your-team-hook

The webhook receives JSON {"text": "<subject>\n<body>"}, which Slack and Feishu/Lark-style
incoming webhooks accept; for another format edit the block in the dashboard (Blocks). Run it
again to change the URL: the block is overwritten and the automations replaced.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
AUTOMATIONS = ("batch-finished.yaml", "batch-low-yield.yaml")
BLOCK_NAME = "clipmill-team-webhook"


def setup_notifications(url: str, *, allow_private_urls: bool = False) -> list[str]:
    """Create (or replace) the webhook block and the automations; returns the automation ids.
    `allow_private_urls`: the webhook is on the local network (Prefect refuses those otherwise)."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore

    block = CustomWebhookNotificationBlock(name="clipmill", url=url, json_data={"text": "{{subject}}\n{{body}}"},
                                           allow_private_urls=allow_private_urls)
    block_id = block.save(BLOCK_NAME, overwrite=True)
    ids = []
    with get_client(sync_client=True) as client:
        for name in AUTOMATIONS:
            text = (HERE / name).read_text().replace("REPLACE-WITH-BLOCK-ID", str(block_id))
            automation = AutomationCore.model_validate(yaml.safe_load(text))
            for existing in client.read_automations_by_name(automation.name):
                client.delete_automation(existing.id)
            ids.append(str(client.create_automation(automation)))
    return ids


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: notify_setup.py WEBHOOK_URL")
    print("automations:", ", ".join(setup_notifications(sys.argv[1])))
