"""Command-line interface (DESIGN section 3): registers each feature's commands, nothing else.
Every command has --help; each lives in its feature's commands.py."""

from perception.accounts.commands import create_user_command, users_group
from perception.backups.commands import backup_command, restore_command
from perception.demo.commands import demo_info_command, seed_demo_command
from perception.followups.commands import erase_customer_command, send_followup_alerts_command
from perception.invitations.commands import send_invitations_command, send_mail_command
from perception.reports.commands import (
    export_responses_command,
    gap_command,
    report_cells_command,
    trend_command,
)
from perception.responses.commands import import_responses_command
from perception.teams.commands import teams_group
from perception.webhooks.commands import webhooks_command
from perception.worker.commands import worker_command

COMMANDS = (
    create_user_command,
    users_group,
    seed_demo_command,
    demo_info_command,
    gap_command,
    trend_command,
    import_responses_command,
    report_cells_command,
    send_mail_command,
    send_invitations_command,
    erase_customer_command,
    send_followup_alerts_command,
    export_responses_command,
    webhooks_command,
    worker_command,
    backup_command,
    restore_command,
    teams_group,
)


def register_commands(app):
    for command in COMMANDS:
        app.cli.add_command(command)
