"""Find the final answer in a response, in a fixed priority, keeping every candidate.

Priority (the first rule that finds something wins):

1. ``boxed``: every ``\\boxed{...}`` / ``\\fbox{...}`` (nested braces; the last one is the answer);
2. ``final-answer``: "final answer is X" / "final answer: X"; then "the answer is X" / "Answer: X";
3. ``gsm8k``: ``#### 42``;
4. ``regex``: a caller's pattern (group 1 if it has one), last match;
5. ``last-number``: the last number in the text (can be switched off).

All matches of the winning rule are returned so the verifier can tell a single answer from
hedging (``\\boxed{1} ... \\boxed{2}``). Only the last ``max_chars`` of a response are read,
and of a reasoning model's response only what follows the last ``</think>`` (when that is
empty, the thinking itself, without the tag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_RESPONSE_CHARS = 50_000
MAX_CANDIDATE_CHARS = 4000

_BOX = re.compile(r"\\(?:boxed|fbox)\s*(\{)?")
_BRACES = re.compile(r"\\.|[{}]", re.DOTALL)
# Every gap is [ \t]* and every capture (.*): a pattern that cannot fail after its trigger
# phrase cannot backtrack, so a run of 50 000 newlines or spaces stays linear.
# "final answer" counts only when it introduces one ("is", ":", "=" or the end of its line), not
# in prose ("before giving the final answer, ...").
_FINAL = re.compile(r"final\s+answer[ \t*]*(?:is\b|[:=]|(?=\n)|$)[ \t*:=]*(.*)", re.IGNORECASE)
_ANSWER = re.compile(r"(?:\bthe\s+(?:correct\s+)?answer\s+is\b|\banswer\s+is\b|\banswer[ \t*]*:)[ \t*:=]*(.*)",
                     re.IGNORECASE)
_GSM8K = re.compile(r"####[ \t]*(.*)")
_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?(?:/\d+)?|-?\.\d+")
# "3 or 5", "x = 3 or x = 5": a last number offered as one of alternatives (hedging).
_NUM = _NUMBER.pattern
_OR_TAIL = re.compile(rf"({_NUM})\s*,?\s+or\s+(?:[A-Za-z]\s*=\s*)?({_NUM})\s*[.!]?\s*$")
_SENTENCE_END = re.compile(r"\.(?:\s|$)|[ \t](?:because|since|which|as|so|where)\s")


@dataclass
class Extraction:
    """``rule`` that found the answer and every ``candidate`` it found (last is primary)."""

    rule: str
    candidates: list[str] = field(default_factory=list)

    @property
    def answer(self) -> str | None:
        return self.candidates[-1] if self.candidates else None


def find_boxed(text: str) -> list[str]:
    """Contents of every top-level ``\\boxed{}``/``\\fbox{}``, braces matched (not regex)."""
    out: list[str] = []
    pos = 0
    while True:
        m = _BOX.search(text, pos)
        if not m:
            return out
        if m.group(1) is None:  # \boxed 5
            tail = re.match(r"\s*([^\s$]+)", text[m.end():m.end() + 200])
            if tail:
                out.append(tail.group(1))
            pos = m.end()
            continue
        depth, start, end = 1, m.end(), None
        for b in _BRACES.finditer(text, start):
            tok = b.group(0)
            if tok == "{":
                depth += 1
            elif tok == "}":
                depth -= 1
                if depth == 0:
                    end = b.start()
                    break
        if end is None:  # unbalanced: take what is there, bounded
            out.append(text[start:start + MAX_CANDIDATE_CHARS])
            return out
        out.append(text[start:end][:MAX_CANDIDATE_CHARS])
        pos = end + 1


# A math span: $..$ / $$..$$ (an escaped \$ inside is currency, not the end), \(..\), \[..\].
_SPAN = re.compile(r"\$\$?((?:\\.|[^$\\])+?)\$\$?|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
# What may join several spans into one statement of alternatives: "$5$ or $6$", "$5$, maybe $6$".
_JOIN = re.compile(r"[ \t,;(]*(?:(?:or|and|maybe|possibly|perhaps)\b[ \t,;(]*)*", re.IGNORECASE)


def _math_spans(s: str) -> str | None:
    """The math span ``s`` starts with, and any joined to it by or/and/commas ("5, 6")."""
    m = _SPAN.match(s)
    if not m:
        return None
    parts = [next(g for g in m.groups() if g is not None).strip()]
    pos = m.end()
    while len(parts) < 50:
        j = _JOIN.match(s, pos)
        nxt = _SPAN.match(s, j.end()) if j.group(0).strip(" \t(") else None
        if not nxt:
            break
        parts.append(next(g for g in nxt.groups() if g is not None).strip())
        pos = nxt.end()
    return ", ".join(p for p in parts if p) or None


def _trim(s: str) -> str:
    s = s.strip().lstrip("*:= ").strip()
    spans = _math_spans(s)
    if spans:
        return spans
    boxed = find_boxed(s)
    if boxed:
        return boxed[-1].strip()
    m = _SENTENCE_END.search(s)
    if m:
        s = s[:m.start()]
    return s.strip().rstrip(".").strip().strip("*").strip()


_INNER = re.compile(r"(?:the[ \t]+)?(?:final[ \t]+|correct[ \t]+)?answer[ \t]*(?:is\b|:)[ \t]*", re.IGNORECASE)


def _lines(pattern: re.Pattern, text: str) -> list[str]:
    """Each match's answer; a line that states an answer again is split at each statement
    ("5. The final answer is 6." gives 5 and 6; "Final Answer: The final answer is $18$." 18)."""
    out = []
    for m in pattern.finditer(text):
        captured = m.group(1)[:MAX_CANDIDATE_CHARS]
        pos = 0
        for inner in _INNER.finditer(captured):
            head = _trim(captured[pos:inner.start()])
            if head:
                out.append(head)
            pos = inner.end()
        got = _trim(captured[pos:])
        if got:
            out.append(got)
    return out


def extract(response: str, *, answer_regex: str | re.Pattern | None = None,
            last_number: bool = True, max_chars: int = MAX_RESPONSE_CHARS) -> Extraction:
    """Every candidate final answer of ``response``, by the first rule that finds one."""
    if "</think>" in response:  # a reasoning model: only what follows its thinking counts
        before, after = response.rsplit("</think>", 1)
        response = after if after.strip() else before  # nothing after: the thinking, untagged
    text = response[-max_chars:] if len(response) > max_chars else response
    boxed = [b.strip() for b in find_boxed(text)]
    boxed = [b for b in boxed if b]
    if boxed:
        return Extraction("boxed", boxed)
    for rule, pattern in (("final-answer", _FINAL), ("final-answer", _ANSWER), ("gsm8k", _GSM8K)):
        found = _lines(pattern, text)
        if found:
            return Extraction(rule, found)
    if answer_regex is not None:
        pattern = re.compile(answer_regex) if isinstance(answer_regex, str) else answer_regex
        found = [m.group(1) if m.groups() else m.group(0) for m in pattern.finditer(text)]
        found = [f.strip() for f in found if f and f.strip()]
        if found:
            return Extraction("regex", [found[-1][:MAX_CANDIDATE_CHARS]])
    if last_number:
        tail = text[-2000:].replace("{,}", ",")
        nums = _NUMBER.findall(tail)
        if nums:
            hedge = _OR_TAIL.search(tail.rstrip().rstrip("$*").rstrip())
            if hedge:  # both alternatives are candidates: the hedging rule then decides
                return Extraction("last-number", [hedge.group(1), hedge.group(2)])
            return Extraction("last-number", [nums[-1]])
    return Extraction("none", [])


def extract_answer(response: str) -> str | None:
    """The final answer of ``response`` by the default priority, or None."""
    return extract(response).answer
