"""Wildcard patterns and policy variables of the IAM policy language: the `*` and `?` of
Action, Resource and the Like/ARN condition operators, and `${...}` variables resolved per
request, compiled to regular expressions (cached). Used by policy_matchers.py and policy_conditions.py.
"""
from __future__ import annotations

import re

# A pattern is compiled from tokens: ("t", text) policy text, in which * and ? are wildcards
# for the Like operators; ("c", ch) a literal character from ${*} ${?} ${$}; ("v", key, default,
# text as written) a policy variable. Variables are resolved per request; text without them compiles once.

_VAR = re.compile(r"\$\{([^}]*)\}")
_VAR_BODY = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def _tokenize(text: str, variables: bool) -> list[tuple]:
    if not variables or "${" not in text:
        return [("t", text)]
    tokens: list[tuple] = []
    pos = 0
    for m in _VAR.finditer(text):
        if m.start() > pos:
            tokens.append(("t", text[pos:m.start()]))
        body = m.group(1)
        if body in _ESCAPES:
            tokens.append(("c", _ESCAPES[body]))
        else:
            vm = _VAR_BODY.fullmatch(body)
            if vm is None:  # not a variable AWS would recognise: keep the text as written
                tokens.append(("t", m.group(0)))
            else:
                tokens.append(("v", vm.group(1).lower(), vm.group(2), m.group(0)))
        pos = m.end()
    if pos < len(text):
        tokens.append(("t", text[pos:]))
    return tokens


def _has_vars(tokens: list[tuple]) -> bool:
    return any(t[0] == "v" for t in tokens)


def _resolve(tokens: list[tuple], ctx: dict[str, list[str]]) -> list[tuple[str, bool]] | None:
    """Pieces (text, is_policy_text), or None when a variable cannot be resolved.

    Only single-valued keys can be variables
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
    """
    out: list[tuple[str, bool]] = []
    for tok in tokens:
        kind = tok[0]
        if kind == "t":
            out.append((tok[1], True))
        elif kind == "c":
            out.append((tok[1], False))
        else:
            values = ctx.get(tok[1])
            if values is not None and len(values) == 1:
                out.append((values[0], False))
            elif tok[2] is not None and not values:
                out.append((tok[2], False))
            else:
                return None
    return out


def _flat(pieces: list[tuple[str, bool]]) -> str:
    return "".join(text for text, _ in pieces)


def _flag_chars(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Each character with whether it is a wildcard (* or ? written in the policy)."""
    return [(ch, wild and ch in "*?") for text, wild in pieces for ch in text]


def _glob_source(chars: list[tuple[str, bool]]) -> str:
    out = []
    for ch, wild in chars:
        out.append((".*" if ch == "*" else ".") if wild else re.escape(ch))
    return "".join(out)


def _arn_source(chars: list[tuple[str, bool]]) -> str:
    """ARN glob: the first five colon-separated segments are matched separately (a wildcard
    does not cross ':'); the resource part may contain anything, '/' and ':' included
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html,
    .../reference_policies_elements_condition_operators.html#Conditions_ARN). A pattern with
    fewer than six segments is matched as a plain glob."""
    segments: list[list[tuple[str, bool]]] = [[]]
    for ch, wild in chars:
        if ch == ":" and len(segments) < 6:
            segments.append([])
        else:
            segments[-1].append((ch, wild))
    if len(segments) < 6:
        return _glob_source(chars)
    parts = []
    for i, seg in enumerate(segments):
        last = i == 5
        out = []
        for ch, wild in seg:
            if wild:
                out.append((".*" if last else "[^:]*") if ch == "*" else ("." if last else "[^:]"))
            else:
                out.append(re.escape(ch))
        parts.append("".join(out))
    return ":".join(parts)


_REGEX_CACHE: dict[tuple[str, int], re.Pattern] = {}


def _compile(source: str, flags: int = 0) -> re.Pattern:
    key = (source, flags)
    rx = _REGEX_CACHE.get(key)
    if rx is None:
        if len(_REGEX_CACHE) > 4096:
            _REGEX_CACHE.clear()
        rx = _REGEX_CACHE[key] = re.compile(source, flags | re.DOTALL)
    return rx


_PIECES_CACHE: dict[tuple, re.Pattern] = {}


def _pieces_regex(pieces: list[tuple[str, bool]], arn: bool) -> re.Pattern:
    """The compiled pattern for resolved pieces (cached: the same variable values recur)."""
    key = (arn, *pieces)
    rx = _PIECES_CACHE.get(key)
    if rx is None:
        if len(_PIECES_CACHE) > 4096:
            _PIECES_CACHE.clear()
        chars = _flag_chars(pieces)
        rx = _PIECES_CACHE[key] = _compile(_arn_source(chars) if arn else _glob_source(chars))
    return rx


def _alternation(sources: list[str], flags: int = 0) -> re.Pattern | None:
    if not sources:
        return None
    return _compile("|".join(f"(?:{s})" for s in sources), flags)
