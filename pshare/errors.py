"""Errors that end a launch with one line on stderr and a chosen exit status."""


class LaunchError(Exception):
    """A failure the user must see as ``pshare: MESSAGE`` and exit ``status``."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.message = message
        self.status = status
