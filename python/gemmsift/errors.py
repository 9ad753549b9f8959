"""Errors raised by gemmsift. Every one is a GemmsiftError; the code matches the C API's GS_ERR_*."""


class GemmsiftError(Exception):
    """Base class of every gemmsift error."""

    code = 7

    def __init__(self, message, code=None):
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidArgumentError(GemmsiftError, ValueError):
    code = 1


class ParseError(GemmsiftError, ValueError):
    code = 2


class FileError(GemmsiftError, OSError):
    code = 3


class NotFoundError(GemmsiftError, LookupError):
    code = 4


class UnsupportedError(GemmsiftError):
    code = 5


class MismatchError(GemmsiftError):
    code = 6


class InternalError(GemmsiftError):
    code = 7


class LibraryError(GemmsiftError, ImportError):
    """libgemmsift.so could not be found or loaded, or its version does not match this package."""

    code = 0


_BY_CODE = {
    1: InvalidArgumentError,
    2: ParseError,
    3: FileError,
    4: NotFoundError,
    5: UnsupportedError,
    6: MismatchError,
    7: InternalError,
}


def error_for(code, message):
    """The GemmsiftError subclass instance for a C API status code."""
    return _BY_CODE.get(code, GemmsiftError)(message, code)
