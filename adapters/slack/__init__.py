"""Slack: rep nudges as Block Kit messages (``notifier.SlackNotifier``) and a local stand-in of the Web API."""
