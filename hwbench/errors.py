"""Errors that the CLI turns into one clear line (exit status 2 for bad input)."""

from __future__ import annotations


class HwbenchError(Exception):
    """Base class: the message is shown to the user as one line."""

    exit_code = 1


class BadInput(HwbenchError):
    """The user asked for something invalid (argument, file, name). Exit status 2."""

    exit_code = 2


class BadFile(BadInput):
    """A file the user gave (GGUF, results, profile) is unreadable, malformed or hostile."""


class ProfileError(BadInput):
    """A profile file is malformed; the message names the file and the field."""


class BenchError(HwbenchError):
    """A benchmark failed (child crashed, timed out, refused for memory)."""

    exit_code = 1
