"""Build ``code_example.jsonl``: the example problems of ``nemogym/Code-v0`` (written for nemogym).

Run ``python envs/code/data/build_examples.py`` after editing a problem. Function-style tests
are hand-written asserts; stdin/stdout cases are hand-written, plus seeded larger cases whose
expected output comes from an oracle written here independently of the reference solution.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

OUT = Path(__file__).with_name("code_example.jsonl")


def fn(id_, entry, prompt, solution, test, **extra):
    return {"id": id_, "style": "function", "prompt": prompt, "entry_point": entry,
            "solution": solution.strip() + "\n", "tests": test.strip() + "\n", **extra}


def io(id_, prompt, solution, cases, **extra):
    return {"id": id_, "style": "io", "prompt": prompt, "solution": solution.strip() + "\n",
            "tests": [{"input": i, "output": o} for i, o in cases], **extra}


FUNCTION = [
    fn("fn-palindrome", "is_palindrome",
       "Write `is_palindrome(s: str) -> bool`: True if `s` reads the same forwards and backwards "
       "when only letters and digits are kept and case is ignored.",
       "def is_palindrome(s):\n    t = [c.lower() for c in s if c.isalnum()]\n    return t == t[::-1]",
       """
def check(candidate):
    assert candidate("A man, a plan, a canal: Panama") is True
    assert candidate("race a car") is False
    assert candidate("") is True
    assert candidate("No 'x' in Nixon") is True
    assert candidate("ab") is False
    assert candidate("1a2 2A1") is True
"""),
    fn("fn-fizzbuzz", "fizzbuzz",
       "Write `fizzbuzz(n: int) -> list[str]` returning the strings for 1..n: 'Fizz' for multiples "
       "of 3, 'Buzz' for multiples of 5, 'FizzBuzz' for both, otherwise the number itself.",
       "def fizzbuzz(n):\n    out = []\n    for i in range(1, n + 1):\n        s = ('Fizz' if i % 3 == 0 else '') + ('Buzz' if i % 5 == 0 else '')\n        out.append(s or str(i))\n    return out",
       """
def check(candidate):
    assert candidate(0) == []
    assert candidate(5) == ["1", "2", "Fizz", "4", "Buzz"]
    r = candidate(15)
    assert type(r) is list and len(r) == 15
    assert r[14] == "FizzBuzz" and r[9] == "Buzz" and r[8] == "Fizz" and r[6] == "7"
"""),
    fn("fn-two-sum", "two_sum",
       "Write `two_sum(nums: list[int], target: int) -> tuple[int, int]`: the indices (i, j), i < j, "
       "of the only pair of elements that add up to `target`.",
       "def two_sum(nums, target):\n    seen = {}\n    for j, x in enumerate(nums):\n        if target - x in seen:\n            return (seen[target - x], j)\n        seen[x] = j",
       """
def check(candidate):
    assert candidate([2, 7, 11, 15], 9) == (0, 1)
    assert candidate([3, 2, 4], 6) == (1, 2)
    assert candidate([3, 3], 6) == (0, 1)
    assert candidate([-5, 10, 1, 20], 15) == (0, 3)
    assert candidate(list(range(1000)), 1997) == (998, 999)
"""),
    fn("fn-flatten", "flatten",
       "Write `flatten(nested: list) -> list` that flattens arbitrarily nested lists, keeping order.",
       "def flatten(nested):\n    out = []\n    for x in nested:\n        if isinstance(x, list):\n            out.extend(flatten(x))\n        else:\n            out.append(x)\n    return out",
       """
def check(candidate):
    assert candidate([]) == []
    assert candidate([1, [2, [3, [4]], 5]]) == [1, 2, 3, 4, 5]
    assert candidate([[[]], "a", ["b", ["c"]]]) == ["a", "b", "c"]
    assert candidate([[1, 2], (3, 4)]) == [1, 2, (3, 4)]
"""),
    fn("fn-roman", "roman_to_int",
       "Write `roman_to_int(s: str) -> int` converting a valid Roman numeral (1 to 3999) to an integer.",
       "def roman_to_int(s):\n    v = {'I': 1, 'V': 5, 'X': 10, 'L': 50, 'C': 100, 'D': 500, 'M': 1000}\n    total = 0\n    for a, b in zip(s, s[1:] + ' '):\n        total += -v[a] if b != ' ' and v[a] < v[b] else v[a]\n    return total",
       """
def check(candidate):
    assert candidate("III") == 3
    assert candidate("IV") == 4
    assert candidate("IX") == 9
    assert candidate("LVIII") == 58
    assert candidate("MCMXCIV") == 1994
    assert candidate("MMMCMXCIX") == 3999
"""),
    fn("fn-merge-intervals", "merge_intervals",
       "Write `merge_intervals(intervals: list[list[int]]) -> list[list[int]]`: merge overlapping or "
       "touching closed intervals and return them sorted by start.",
       "def merge_intervals(intervals):\n    out = []\n    for a, b in sorted(intervals):\n        if out and a <= out[-1][1]:\n            out[-1][1] = max(out[-1][1], b)\n        else:\n            out.append([a, b])\n    return out",
       """
def check(candidate):
    assert candidate([]) == []
    assert candidate([[1, 3], [2, 6], [8, 10], [15, 18]]) == [[1, 6], [8, 10], [15, 18]]
    assert candidate([[1, 4], [4, 5]]) == [[1, 5]]
    assert candidate([[5, 7], [1, 2]]) == [[1, 2], [5, 7]]
    assert candidate([[1, 10], [2, 3], [4, 5]]) == [[1, 10]]
"""),
    fn("fn-vowels", "count_vowels",
       "Write `count_vowels(s: str) -> dict[str, int]` mapping each vowel (a, e, i, o, u; case-"
       "insensitive) that occurs in `s` to its count. Vowels that do not occur are left out.",
       "def count_vowels(s):\n    out = {}\n    for c in s.lower():\n        if c in 'aeiou':\n            out[c] = out.get(c, 0) + 1\n    return out",
       """
def check(candidate):
    assert candidate("") == {}
    assert candidate("Hello World") == {"e": 1, "o": 2}
    assert candidate("AEIOU aeiou") == {"a": 2, "e": 2, "i": 2, "o": 2, "u": 2}
    assert candidate("rhythm") == {}
"""),
    fn("fn-is-prime", "is_prime",
       "Write `is_prime(n: int) -> bool` for any integer n (negative numbers, 0 and 1 are not prime).",
       "def is_prime(n):\n    if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n        if n % i == 0:\n            return False\n        i += 1\n    return True",
       """
def check(candidate):
    assert [x for x in range(-5, 30) if candidate(x)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
    assert candidate(7919) is True
    assert candidate(1_000_003) is True
    assert candidate(1_000_001) is False
"""),
    fn("fn-rotate", "rotate_matrix",
       "Write `rotate_matrix(m: list[list[int]]) -> list[list[int]]` returning the matrix rotated 90 "
       "degrees clockwise (a new list; `m` may be rectangular).",
       "def rotate_matrix(m):\n    return [list(row) for row in zip(*m[::-1])]",
       """
def check(candidate):
    assert candidate([[1, 2], [3, 4]]) == [[3, 1], [4, 2]]
    assert candidate([[1, 2, 3]]) == [[1], [2], [3]]
    assert candidate([[1], [2], [3]]) == [[3, 2, 1]]
    assert candidate([[1, 2, 3], [4, 5, 6], [7, 8, 9]]) == [[7, 4, 1], [8, 5, 2], [9, 6, 3]]
"""),
    fn("fn-word-freq", "top_words",
       "Write `top_words(text: str, k: int) -> list[tuple[str, int]]`: the k most frequent words "
       "(lower-cased, words are runs of letters a-z) with their counts, most frequent first, ties "
       "broken alphabetically.",
       "import re\nfrom collections import Counter\n\ndef top_words(text, k):\n    c = Counter(re.findall(r'[a-z]+', text.lower()))\n    return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:k]",
       """
def check(candidate):
    assert candidate("", 3) == []
    assert candidate("the cat and the hat", 2) == [("the", 2), ("and", 1)]
    assert candidate("B b a A c", 3) == [("a", 2), ("b", 2), ("c", 1)]
    assert candidate("x-y x_y, x!", 1) == [("x", 3)]
"""),
    fn("fn-rle", "run_length_encode",
       "Write `run_length_encode(s: str) -> str`: each run of a repeated character becomes the "
       "character followed by the run length, e.g. 'aaabcc' -> 'a3b1c2'.",
       "def run_length_encode(s):\n    out, i = [], 0\n    while i < len(s):\n        j = i\n        while j < len(s) and s[j] == s[i]:\n            j += 1\n        out.append(f'{s[i]}{j - i}')\n        i = j\n    return ''.join(out)",
       """
def check(candidate):
    assert candidate("") == ""
    assert candidate("aaabcc") == "a3b1c2"
    assert candidate("abc") == "a1b1c1"
    assert candidate("z" * 12) == "z12"
    assert candidate("aabbaa") == "a2b2a2"
"""),
    fn("fn-stats", "mean_and_std",
       "Write `mean_and_std(xs: list[float]) -> tuple[float, float]`: the mean and the population "
       "standard deviation of a non-empty list.",
       "import math\n\ndef mean_and_std(xs):\n    m = sum(xs) / len(xs)\n    return (m, math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs)))",
       """
def check(candidate):
    m, s = candidate([2, 4, 4, 4, 5, 5, 7, 9])
    assert abs(m - 5.0) < 1e-9 and abs(s - 2.0) < 1e-9
    m, s = candidate([1.5])
    assert abs(m - 1.5) < 1e-9 and abs(s) < 1e-9
    m, s = candidate([0.1, 0.2, 0.3])
    assert abs(m - 0.2) < 1e-9 and abs(s - 0.0816496580927726) < 1e-9
"""),
    fn("fn-duration", "parse_duration",
       "Write `parse_duration(s: str) -> int` converting durations such as '1h30m', '45s' or "
       "'2h5s' (hours, minutes, seconds, each at most once, in that order) to seconds. Raise "
       "ValueError for anything else, including the empty string.",
       "import re\n\ndef parse_duration(s):\n    m = re.fullmatch(r'(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?', s)\n    if not s or m is None:\n        raise ValueError(f'bad duration {s!r}')\n    h, mi, se = (int(g) if g else 0 for g in m.groups())\n    return h * 3600 + mi * 60 + se",
       """
def check(candidate):
    assert candidate("1h30m") == 5400
    assert candidate("45s") == 45
    assert candidate("2h5s") == 7205
    assert candidate("0m") == 0
    for bad in ["", "5x", "1m1h", "h", "10"]:
        try:
            candidate(bad)
        except ValueError:
            pass
        else:
            raise AssertionError(f"no ValueError for {bad!r}")
"""),
    fn("fn-common", "common_elements",
       "Write `common_elements(a: list, b: list) -> set`: the set of values present in both lists.",
       "def common_elements(a, b):\n    return set(a) & set(b)",
       """
def check(candidate):
    assert candidate([1, 2, 3], [2, 3, 4]) == {2, 3}
    assert candidate([], [1]) == set()
    assert candidate(["a", "b", "a"], ["a"]) == {"a"}
    assert type(candidate([1], [1])) is set
"""),
    fn("fn-fib", "fibonacci",
       "Write `fibonacci(n: int) -> int` returning F(n) with F(0) = 0, F(1) = 1 (n up to 10000; use "
       "exact integers).",
       "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
       """
def check(candidate):
    assert [candidate(i) for i in range(10)] == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]
    assert candidate(100) == 354224848179261915075
    assert candidate(1000) % 1_000_000_007 == 517691607
"""),
    fn("fn-brackets", "balanced",
       "Write `balanced(s: str) -> bool`: True if every bracket in `s` ((), [], {}) is closed in the "
       "right order; other characters are ignored.",
       "def balanced(s):\n    pairs, stack = {')': '(', ']': '[', '}': '{'}, []\n    for c in s:\n        if c in '([{':\n            stack.append(c)\n        elif c in pairs:\n            if not stack or stack.pop() != pairs[c]:\n                return False\n    return not stack",
       """
def check(candidate):
    assert candidate("") is True
    assert candidate("([]{})") is True
    assert candidate("a(b[c]d)e") is True
    assert candidate("(]") is False
    assert candidate("((") is False
    assert candidate("())(") is False
"""),
]


def _lines(*rows):
    return "".join(str(r) + "\n" for r in rows)


def _lis(xs):
    import bisect

    tails = []
    for x in xs:
        i = bisect.bisect_left(tails, x)
        tails[i:i + 1] = [x]
    return len(tails)


def _seeded(seed, n, make):
    rng = random.Random(seed)
    return [make(rng) for _ in range(n)]


def _sum_case(rng):
    a, b = rng.randint(-10**12, 10**12), rng.randint(-10**12, 10**12)
    return f"{a} {b}\n", f"{a + b}\n"


def _minmax_case(rng):
    xs = [rng.randint(-1000, 1000) for _ in range(rng.randint(1, 50))]
    return _lines(len(xs), " ".join(map(str, xs))), f"{max(xs)} {min(xs)}\n"


def _prefix_case(rng):
    xs = [rng.randint(-100, 100) for _ in range(rng.randint(1, 30))]
    qs = [sorted(rng.sample(range(1, len(xs) + 1), 2)) if len(xs) > 1 else [1, 1] for _ in range(5)]
    inp = _lines(len(xs), " ".join(map(str, xs)), len(qs), *(f"{lo} {hi}" for lo, hi in qs))
    return inp, _lines(*(sum(xs[lo - 1:hi]) for lo, hi in qs))


def _lis_case(rng):
    xs = [rng.randint(0, 50) for _ in range(rng.randint(1, 40))]
    return _lines(len(xs), " ".join(map(str, xs))), f"{_lis(xs)}\n"


IO = [
    io("io-sum", "Read two integers a and b (|a|, |b| <= 10^12) on one line and print a + b.",
       "a, b = map(int, input().split())\nprint(a + b)",
       [("1 2\n", "3\n"), ("-5 5\n", "0\n"), ("1000000000000 1000000000000\n", "2000000000000\n")]
       + _seeded(1, 5, _sum_case)),
    io("io-minmax", "The first line holds n, the second n integers. Print the maximum and the minimum, "
       "separated by a space.",
       "input()\nxs = list(map(int, input().split()))\nprint(max(xs), min(xs))",
       [("3\n1 2 3\n", "3 1\n"), ("1\n-7\n", "-7 -7\n")] + _seeded(2, 5, _minmax_case)),
    io("io-fib-mod", "Read n (0 <= n <= 100000) and print the n-th Fibonacci number modulo 1000000007 "
       "(F(0) = 0, F(1) = 1).",
       "n = int(input())\na, b = 0, 1\nfor _ in range(n):\n    a, b = b, (a + b) % 1000000007\nprint(a)",
       [("0\n", "0\n"), ("1\n", "1\n"), ("10\n", "55\n"), ("50\n", "586268941\n"), ("100000\n", "911435502\n")]),
    io("io-reverse-words", "Read one line and print it with the letters of every word reversed, keeping "
       "the word order. Words are separated by single spaces.",
       "print(' '.join(w[::-1] for w in input().split(' ')))",
       [("hello world\n", "olleh dlrow\n"), ("a\n", "a\n"), ("abc def ghi\n", "cba fed ihg\n")]),
    io("io-distinct-words", "Read all of standard input and print how many distinct words it contains, "
       "ignoring case (words are separated by whitespace).",
       "import sys\nprint(len({w.lower() for w in sys.stdin.read().split()}))",
       [("The the THE cat\n", "2\n"), ("\n", "0\n"), ("a b\nc A\n", "3\n")]),
    io("io-circle", "Read a radius r (a real number) and print the area of the circle of radius r. Answers "
       "within 1e-6 (absolute or relative) are accepted.",
       "import math\nr = float(input())\nprint(math.pi * r * r)",
       [(f"{r}\n", f"{math.pi * r * r:.10f}\n") for r in (1, 0, 2.5, 10, 0.001)], compare="float"),
    io("io-transpose", "The first line holds r and c, then r lines of c integers follow. Print the "
       "transposed matrix: c lines of r integers separated by spaces.",
       "r, c = map(int, input().split())\nm = [input().split() for _ in range(r)]\nfor row in zip(*m):\n    print(' '.join(row))",
       [("2 3\n1 2 3\n4 5 6\n", "1 4\n2 5\n3 6\n"), ("1 1\n9\n", "9\n"), ("3 1\n1\n2\n3\n", "1 2 3\n")]),
    io("io-gcd-lcm", "Read two positive integers and print their greatest common divisor and least "
       "common multiple, separated by a space.",
       "import math\na, b = map(int, input().split())\ng = math.gcd(a, b)\nprint(g, a * b // g)",
       [("12 18\n", "6 36\n"), ("7 13\n", "1 91\n"), ("100 10\n", "10 100\n"), ("1 1\n", "1 1\n")]),
    io("io-sort-strings", "The first line holds n, then n words follow, one per line. Print them sorted by "
       "length, ties in alphabetical order, one per line.",
       "n = int(input())\nws = [input().strip() for _ in range(n)]\nprint('\\n'.join(sorted(ws, key=lambda w: (len(w), w))))",
       [("4\nbanana\nkiwi\napple\nfig\n", "fig\nkiwi\napple\nbanana\n"), ("1\nz\n", "z\n"),
        ("3\nbb\naa\nc\n", "c\naa\nbb\n")]),
    io("io-prefix-sums", "The first line holds n, the second n integers, the third q; then q lines hold "
       "l r (1-based, inclusive). Print the sum of elements l..r for each query, one per line.",
       "import sys\nd = sys.stdin.read().split()\nn = int(d[0])\nxs = list(map(int, d[1:1 + n]))\npre = [0]\nfor x in xs:\n    pre.append(pre[-1] + x)\nq = int(d[1 + n])\nout = []\nfor i in range(q):\n    lo, hi = int(d[2 + n + 2 * i]), int(d[3 + n + 2 * i])\n    out.append(pre[hi] - pre[lo - 1])\nprint('\\n'.join(map(str, out)))",
       [("5\n1 2 3 4 5\n2\n1 5\n2 3\n", "15\n5\n")] + _seeded(3, 5, _prefix_case), partial_credit=True),
    io("io-primes", "Read n (2 <= n <= 100000) and print all primes up to n on one line, separated by "
       "spaces.",
       "n = int(input())\ns = bytearray([1]) * (n + 1)\ns[0] = s[1] = 0\nfor i in range(2, int(n ** 0.5) + 1):\n    if s[i]:\n        s[i * i::i] = bytearray(len(s[i * i::i]))\nprint(' '.join(str(i) for i in range(n + 1) if s[i]))",
       [("2\n", "2\n"), ("10\n", "2 3 5 7\n"), ("30\n", "2 3 5 7 11 13 17 19 23 29\n"),
        ("100000\n", " ".join(str(p) for p in range(2, 100001) if all(p % d for d in range(2, math.isqrt(p) + 1))) + "\n")]),
    io("io-brackets", "The first line holds t; each of the next t lines holds a string of brackets "
       "()[]{}. For each, print YES if it is balanced and NO otherwise.",
       "t = int(input())\nfor _ in range(t):\n    st = []\n    ok = True\n    for ch in input().strip():\n        if ch in '([{':\n            st.append(ch)\n        elif not st or '([{'[')]}'.index(ch)] != st.pop():\n            ok = False\n            break\n    print('YES' if ok and not st else 'NO')",
       [("4\n()\n([)]\n{[]}\n(\n", "YES\nNO\nYES\nNO\n"), ("1\n\n", "YES\n"), ("2\n]\n[](){}\n", "NO\nYES\n")]),
    io("io-average", "Read whitespace-separated real numbers until the end of input and print their "
       "average. Answers within 1e-6 are accepted.",
       "import sys\nxs = list(map(float, sys.stdin.read().split()))\nprint(sum(xs) / len(xs))",
       [("1 2 3 4\n", "2.5\n"), ("10\n", "10\n"), ("0.1 0.2\n0.3\n", "0.2\n"), ("-1 1\n", "0\n")],
       compare="float", partial_credit=True),
    io("io-grid-paths", "The first line holds r and c, then r lines of c characters ('.' free, '#' "
       "blocked). Count the paths from the top-left to the bottom-right cell moving only right or down "
       "through free cells, modulo 1000000007.",
       "r, c = map(int, input().split())\ng = [input() for _ in range(r)]\nw = [0] * c\nw[0] = 1 if g[0][0] == '.' else 0\nfor i in range(r):\n    for j in range(c):\n        if g[i][j] == '#':\n            w[j] = 0\n        elif j:\n            w[j] = (w[j] + w[j - 1]) % 1000000007\nprint(w[-1])",
       [("3 3\n...\n.#.\n...\n", "2\n"), ("1 1\n.\n", "1\n"), ("2 2\n.#\n#.\n", "0\n"), ("3 4\n....\n....\n....\n", "10\n")]),
    io("io-binary", "The first line holds t; each of the next t lines holds a binary number. Print each "
       "in decimal, one per line.",
       "t = int(input())\nfor _ in range(t):\n    print(int(input().strip(), 2))",
       [("3\n0\n101\n11111111\n", "0\n5\n255\n"), ("1\n" + "1" * 64 + "\n", f"{2**64 - 1}\n")]),
    io("io-lis", "The first line holds n, the second n integers. Print the length of the longest strictly "
       "increasing subsequence.",
       "import bisect\ninput()\nt = []\nfor x in map(int, input().split()):\n    i = bisect.bisect_left(t, x)\n    t[i:i + 1] = [x]\nprint(len(t))",
       [("6\n10 9 2 5 3 7\n", "3\n"), ("1\n5\n", "1\n"), ("4\n2 2 2 2\n", "1\n")] + _seeded(4, 5, _lis_case)),
    io("io-triangle", "Read h and print a right-aligned triangle of '*' of height h: line i (1-based) "
       "holds h - i spaces then i stars. The output is compared exactly.",
       "h = int(input())\nfor i in range(1, h + 1):\n    print(' ' * (h - i) + '*' * i)",
       [("1\n", "*\n"), ("3\n", "  *\n **\n***\n"), ("4\n", "   *\n  **\n ***\n****\n")], compare="exact"),
]


def main() -> None:
    rows = FUNCTION + IO
    assert len({r["id"] for r in rows}) == len(rows), "duplicate ids"
    with OUT.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(f"wrote {len(rows)} problems ({len(FUNCTION)} function-style, {len(IO)} stdin/stdout) to {OUT}")


if __name__ == "__main__":
    main()
