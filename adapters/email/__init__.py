"""Email: rep nudges over SMTP, plain text + HTML (``notifier.EmailNotifier``)."""
