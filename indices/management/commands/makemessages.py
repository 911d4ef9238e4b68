from django.core.management.commands import makemessages


class Command(makemessages.Command):
    """Django's makemessages, also extracting the engine's N_("...") messages (the engine cannot import Django)."""

    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_"]
