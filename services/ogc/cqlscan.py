"""Cheap lexical bounds on a CQL2 filter, checked before any parser sees it.

The ``cql2`` parser (Rust, recursive descent) overflows its stack and kills the whole process
at ~1 540 nested parentheses; ``json`` and ``orjson`` recurse too. A filter a person writes
nests a handful of levels, so anything deeper, longer or with more tokens than below is
refused here with a 400, in one linear pass that skips string literals and quoted names.
Unary prefixes (``NOT NOT ...``, ``- - 1``) nest without parentheses: they count as depth.
"""

from __future__ import annotations

from services.ogc.errors import InvalidParameter

MAX_CHARS = 20_000
MAX_DEPTH = 20  # parentheses (and runs of NOT / unary minus) in CQL2 text
MAX_JSON_DEPTH = 40  # brackets and braces in CQL2 JSON: each boolean level takes two
MAX_TOKENS = 4_000
_OPEN, _CLOSE = "([{", ")]}"
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:+")


def _fail(lang: str, message: str) -> InvalidParameter:
    return InvalidParameter(f"filter ({lang}): {message}; simplify the filter")


def check(text: str, lang: str) -> None:
    """Raise a 400 when ``text`` (cql2-text or cql2-json) exceeds the bounds."""
    if len(text) > MAX_CHARS:
        raise _fail(lang, f"longer than {MAX_CHARS} characters")
    json_mode = lang == "cql2-json"
    limit = MAX_JSON_DEPTH if json_mode else MAX_DEPTH
    depth = tokens = prefix = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "'" or ch == '"':  # a literal: '' (text) or \" (JSON) stays inside it
            j = i + 1
            while j < n:
                if json_mode and text[j] == "\\":
                    j += 2
                    continue
                if text[j] == ch:
                    if not json_mode and j + 1 < n and text[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
            tokens += 1
            prefix = 0
            continue
        if ch.isspace():
            i += 1
            continue
        tokens += 1
        if ch in _OPEN:
            depth += 1
            if depth + prefix > limit:
                raise _fail(lang, f"nested deeper than {limit} levels")
        elif ch in _CLOSE:
            depth -= 1
            if depth < 0:
                raise _fail(lang, "a closing bracket without an opening one")
        if ch in _WORD or ch.isalnum():
            j = i
            while j < n and (text[j] in _WORD or text[j].isalnum()):
                j += 1
            word = text[i:j]
            prefix = prefix + 1 if not json_mode and word.upper() == "NOT" else 0
            i = j
        else:
            prefix = prefix + 1 if not json_mode and ch == "-" else (
                prefix if ch in _OPEN or ch in _CLOSE else 0)
            i += 1
        if depth + prefix > limit:
            raise _fail(lang, f"nested deeper than {limit} levels (counting NOT and "
                        "unary minus)")
        if tokens > MAX_TOKENS:
            raise _fail(lang, f"more than {MAX_TOKENS} tokens")
