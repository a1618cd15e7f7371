"""A misspelled keyword is an error that names it, the keywords accepted, and the closest one.

``draw(y, value=False)`` must not quietly draw the values anyway: every entry point of ``viz``
refuses keywords it does not know, the way Python does, and adds the list a learner needs.

>>> @keywords_checked
... def draw(*tensors, values=True, grads=True):
...     pass
>>> draw(value=False)
Traceback (most recent call last):
TypeError: draw() got an unexpected keyword argument 'value'; did you mean 'values'?
draw() takes the keywords: values, grads
"""
from __future__ import annotations

import difflib
import functools
import inspect

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def unexpected_keywords(who, unknown, accepted) -> TypeError:
    """Python's own first sentence, then what ``who`` does take."""
    name = unknown[0]
    close = difflib.get_close_matches(name, list(accepted), n=1, cutoff=0.6)
    first = f"{who}() got an unexpected keyword argument {name!r}"
    if len(unknown) > 1:
        first = f"{who}() got unexpected keyword arguments {', '.join(map(repr, unknown))}"
    elif close:
        first += f"; did you mean {close[0]!r}?"
    return TypeError(f"{first}\n{who}() takes the keywords: {', '.join(accepted)}")


def check_keywords(who, given, accepted):
    unknown = [k for k in given if k not in accepted]
    if unknown:
        raise unexpected_keywords(who, unknown, accepted)


def keywords_checked(function):
    """Wrap ``function`` so an unknown keyword raises ``unexpected_keywords`` before it runs."""
    accepted = [name for name, p in inspect.signature(function).parameters.items() if p.kind in _NAMED]

    @functools.wraps(function)
    def checked(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841  (IPython leaves this frame out of tracebacks)
        check_keywords(function.__name__, kwargs, accepted)
        return function(*args, **kwargs)

    return checked
