"""Write ``math_cases.jsonl``: the labelled (response, gold, expected) cases of the math bench.

Run ``python bench/data/make_math_cases.py`` after editing. Each group below lists a gold
answer, answers an expert grader accepts and answers they reject; every answer is wrapped in
a response ("... \\boxed{X}", "The final answer is X", ...). Categories name the rule a case
exercises; ``hedging`` and ``hacking`` cases must never be rewarded.
"""

from __future__ import annotations

import json
from pathlib import Path

# (category, gold, accepted answers, rejected answers)
GROUPS: list[tuple[str, str, list[str], list[str]]] = [
    # -- integers, fractions, decimals -------------------------------------------------
    ("numeric", "42", ["42", "42.0", "+42", "042", "\\mathbf{42}", "42.000"], ["43", "4.2", "-42", "420"]),
    ("numeric", "-7", ["-7", "- 7", "−7", "(-7)"], ["7", "-7.1"]),
    ("fraction", "\\frac{1}{2}", ["1/2", "0.5", "\\dfrac{1}{2}", "\\tfrac12", "\\frac{2}{4}", "\\frac 12", ".5"],
     ["2", "1/3", "0.51", "\\frac{2}{1}"]),
    ("fraction", "\\frac{3}{4}", ["0.75", "3/4", "\\frac{6}{8}", "\\left(\\frac{3}{4}\\right)"], ["4/3", "0.7", "3.4"]),
    ("fraction", "-\\frac{5}{3}", ["-5/3", "\\frac{-5}{3}", "-1.6666667", "-\\dfrac{5}{3}"], ["5/3", "-1.6", "-\\frac{3}{5}"]),
    ("fraction", "\\frac{1}{3}", ["0.333333333", "\\frac{2}{6}", "1/3"], ["0.33", "0.3", "3"]),
    ("numeric-tol", "3.14159", ["3.141590", "3.1415900001"], ["3.14", "3.1416"]),
    ("numeric-tol", "2.5", ["2.50", "5/2", "\\frac{5}{2}"], ["2.49", "25"]),
    # -- thousands separators, scientific notation ------------------------------------
    ("thousands", "1000000", ["1,000,000", "1{,}000{,}000", "1\\,000\\,000", "10^6", "1000000.0"], ["100000", "1,000,001"]),
    ("thousands", "12345", ["12,345", "12{,}345"], ["12,346", "1234"]),
    ("scientific", "300000", ["3 \\times 10^{5}", "3\\cdot10^5", "3e5", "3.0E5", "3\\times 10^5"], ["3 \\times 10^{6}", "3e4"]),
    ("scientific", "6.02 \\times 10^{23}", ["6.02e23", "6.02\\cdot 10^{23}", "602000000000000000000000"], ["6.02e22", "6.2 \\times 10^{23}"]),
    ("scientific", "1.5 \\times 10^{-3}", ["0.0015", "1.5e-3", "\\frac{3}{2000}"], ["0.015", "1.5e-4"]),
    ("scientific", "6.626 \\times 10^{-34}", ["6.626e-34", "6.626\\cdot10^{-34}", "0.6626 \\times 10^{-33}"],
     ["6.7 \\times 10^{-34}", "0", "6.626 \\times 10^{-33}", "10^{-34}"]),
    ("numeric-tol", "0", ["0.0", "\\sin(\\pi)", "-0", "0 \\cdot \\pi"], ["10^{-20}", "0.1^{10000}", "e^{-1000}"]),
    # -- roots, pi, powers ----------------------------------------------------------------
    ("latex", "\\sqrt{2}", ["\\sqrt2", "2^{1/2}", "\\sqrt{2}", "1.41421356", "sqrt(2)", "√2"], ["2", "1.41", "\\sqrt{3}"]),
    ("latex", "\\frac{\\sqrt{3}}{2}", ["\\frac{\\sqrt3}{2}", "\\dfrac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", "0.8660254", "\\sqrt{3}/2"],
     ["\\frac{\\sqrt{2}}{2}", "\\frac{3}{2}", "\\sqrt{3}"]),
    ("latex", "2\\sqrt{5}", ["\\sqrt{20}", "2 \\sqrt 5", "2*sqrt(5)"], ["\\sqrt{10}", "5\\sqrt{2}"]),
    ("latex", "\\sqrt[3]{2}", ["2^{1/3}", "\\sqrt[3]{2}", "1.25992105"], ["\\sqrt{2}", "2^{3}"]),
    ("latex", "3\\pi", ["3\\pi", "3 pi", "3π", "\\pi \\cdot 3", "9.42477796"], ["3", "\\pi^3", "9.42"]),
    ("latex", "\\frac{\\pi}{2}", ["\\pi/2", "\\frac12\\pi", "pi/2", "0.5\\pi"], ["2\\pi", "\\pi"]),
    ("latex", "2^{10}", ["1024", "2^{10}", "4^5"], ["1023", "2^{11}", "20"]),
    ("latex", "e^{2}", ["e^2", "\\exp(2)", "7.3890561"], ["2e", "e^3"]),
    ("latex", "\\ln 2", ["\\ln(2)", "\\log(2)", "0.69314718"], ["\\ln 3", "2"]),
    ("latex", "\\binom{5}{2}", ["10", "\\dbinom{5}{2}", "\\binom52"], ["20", "\\binom{5}{3} + 1"]),
    ("latex", "5!", ["120", "5!", "\\text{120}"], ["24", "6!"]),
    ("latex", "\\left\\lfloor 7/2 \\right\\rfloor", ["3"], ["4", "3.5"]),
    # -- LaTeX wrappers, spacing, text ------------------------------------------------------
    ("latex", "12", ["\\text{12}", "\\mathrm{12}", "\\displaystyle 12", "\\; 12 \\,", "$12$", "\\(12\\)", "\\textbf{12}"], ["\\text{13}"]),
    # -- units, dollars, percent, degrees --------------------------------------------------
    ("units", "18", ["18 \\text{ dollars}", "\\$18", "18 dollars", "18\\text{ cm}", "18 \\mathrm{cm}^2", "18 apples", "18 units"],
     ["19 \\text{ dollars}", "\\$1.8"]),
    ("units", "2.5", ["2.5 \\text{ hours}", "2.5 m/s", "2.5\\text{ km}"], ["25 \\text{ km}"]),
    ("percent", "50", ["50\\%", "50 \\%", "50%", "50 percent"], ["5\\%", "0.5\\%"]),
    ("percent", "25\\%", ["25", "25\\%", "25 \\%"], ["0.25\\%", "2.5"]),
    ("degrees", "30", ["30^\\circ", "30^{\\circ}", "30°", "30 degrees", "30\\degree"], ["60^\\circ", "3"]),
    ("degrees", "90^\\circ", ["90", "90°"], ["180"]),
    # -- plain text forms -------------------------------------------------------------------
    ("plain-text", "\\frac{\\sqrt{2}}{2}", ["sqrt(2)/2", "1/sqrt(2)", "0.70710678", "2^(-1/2)"], ["sqrt(2)", "1/2"]),
    ("plain-text", "2\\pi", ["2pi", "2*pi", "2 π", "6.283185307"], ["pi", "2"]),
    # -- variable assignments -----------------------------------------------------------------
    ("assignment", "3", ["x = 3", "x=3", "n = 3", "x = \\frac{6}{2}", "a_1 = 3"], ["x = 4", "3 = 4", "x = -3"]),
    ("assignment", "x = 5", ["5", "x=5", "x = 5.0"], ["6", "x = -5"]),
    # -- complex numbers ---------------------------------------------------------------------
    ("complex", "3+4i", ["3 + 4i", "4i + 3", "3+4\\mathrm{i}", "(3+4i)"], ["3-4i", "4+3i", "5"]),
    ("complex", "-i", ["-i", "i^3", "\\frac{1}{i}", "0 - i"], ["i", "1"]),
    ("complex", "\\frac{1+i}{2}", ["0.5+0.5i", "\\frac12 + \\frac{i}{2}", "\\frac{1}{2}+\\frac{1}{2}i"], ["\\frac{1-i}{2}", "1+i"]),
    # -- symbolic expressions -----------------------------------------------------------------
    ("symbolic", "(x+1)^2", ["x^2+2x+1", "(1+x)^2", "x^2 + 2 x + 1", "(x+1)(x+1)"], ["x^2+1", "x^2+2x", "(x-1)^2"]),
    ("symbolic", "\\frac{x^2-1}{x-1}", ["x+1", "1+x"], ["x-1", "x^2"]),
    ("symbolic", "2x^2-8", ["2(x-2)(x+2)", "2(x^2-4)", "-8+2x^2"], ["2(x-2)^2", "2x^2+8"]),
    ("symbolic", "\\sin^2 x + \\cos^2 x", ["1"], ["0", "2"]),
    ("symbolic", "\\frac{a+b}{ab}", ["\\frac{1}{a}+\\frac{1}{b}", "1/a + 1/b"], ["a+b", "\\frac{1}{ab}"]),
    ("symbolic", "3xy", ["3yx", "3 x y", "x \\cdot 3y"], ["3x+y", "xy"]),
    ("symbolic", "\\frac{n(n+1)}{2}", ["\\frac{n^2+n}{2}", "n(n+1)/2", "\\binom{n+1}{2}"], ["n(n-1)/2", "n^2/2"]),
    ("symbolic", "2\\sqrt{x}", ["\\sqrt{4x}", "2x^{1/2}"], ["\\sqrt{2x}", "2x"]),
    # -- sets and lists ------------------------------------------------------------------------
    ("sets", "\\{1, 2, 3\\}", ["\\{3, 2, 1\\}", "1, 2, 3", "\\{1,2,3\\}", "3,1,2", "\\{1,2,3,3\\}"], ["\\{1, 2\\}", "\\{1,2,3,4\\}", "1, 2, 4"]),
    ("sets", "-2, 1", ["1, -2", "x = -2, x = 1", "x=1 \\text{ or } x=-2", "\\{-2, 1\\}", "-2 \\text{ and } 1"], ["-2", "1", "2, -1", "-2, 1, 3"]),
    ("sets", "\\frac{1}{2}, -3", ["-3, 0.5", "\\{-3, \\frac12\\}"], ["-3, 2", "0.5"]),
    ("sets", "1 \\pm \\sqrt{2}", ["1+\\sqrt{2}, 1-\\sqrt{2}", "1-\\sqrt2, 1+\\sqrt2", "1 \\pm \\sqrt{2}"], ["1+\\sqrt{2}", "1 \\pm \\sqrt{3}"]),
    ("sets", "\\emptyset", ["\\varnothing", "\\{\\}"], ["0", "\\{0\\}"]),
    # -- tuples and points ---------------------------------------------------------------------
    ("tuples", "(1, 2)", ["(1,2)", "(1, 2)", "x = 1, y = 2", "(\\frac{2}{2}, 2)"], ["(2, 1)", "(1, 3)", "(1, 2, 3)", "\\{1, 2\\}"]),
    ("tuples", "(3, -1, 2)", ["(3,-1,2)", "\\left(3, -1, 2\\right)", "\\langle 3, -1, 2 \\rangle"], ["(3, 1, 2)", "(-1, 3, 2)"]),
    # -- intervals -------------------------------------------------------------------------------
    ("intervals", "(1, 2]", ["(1,2]", "\\left(1, 2\\right]", "1 < x \\le 2", "x \\in (1, 2]"], ["[1, 2]", "(1, 2)", "[1, 2)", "(1, 3]"]),
    ("intervals", "[0, \\infty)", ["[0,\\infty)", "x \\ge 0", "x \\geq 0", "[0, oo)"], ["(0, \\infty)", "x > 0", "[1, \\infty)"]),
    ("intervals", "(-\\infty, -1) \\cup (3, \\infty)", ["(3,\\infty)\\cup(-\\infty,-1)", "(-\\infty,-1)\\cup(3,\\infty)"],
     ["(-\\infty,-1]\\cup(3,\\infty)", "(-1, 3)", "(-\\infty, -1)"]),
    ("intervals", "[1, 2]", ["[1,2]", "1 \\le x \\le 2", "\\left[1, 2\\right]"], ["1, 2", "(1, 2)", "\\{1, 2\\}", "[1, 2)"]),
    ("intervals", "(-\\infty, 5)", ["x < 5", "5 > x", "(-\\infty,5)"], ["x \\le 5", "x > 5", "(-\\infty, 5]"]),
    # -- matrices ---------------------------------------------------------------------------------
    ("matrices", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
     ["\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix} \\frac22 & 2 \\\\ 3 & 2^2 \\end{pmatrix}"],
     ["\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}", "\\begin{pmatrix} 1 & 2 \\end{pmatrix}", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 5 \\end{pmatrix}"]),
    ("matrices", "\\begin{pmatrix} 2 \\\\ -1 \\end{pmatrix}", ["\\begin{pmatrix}2\\\\-1\\end{pmatrix}", "(2, -1)"], ["(-1, 2)", "\\begin{pmatrix}2\\\\1\\end{pmatrix}"]),
    # -- equations and inequalities -----------------------------------------------------------------
    ("equations", "y = 2x + 3", ["y=3+2x", "y = 2x+3", "2x + 3", "y - 2x = 3", "2y = 4x + 6"], ["y = 2x - 3", "y = 3x + 2", "x = 2y + 3"]),
    ("equations", "x^2 + y^2 = 25", ["y^2 + x^2 = 25", "x^2+y^2-25=0", "25 = x^2 + y^2"], ["x^2 + y^2 = 5", "x^2 - y^2 = 25"]),
    ("inequalities", "x > 3", ["3 < x", "x>3", "(3, \\infty)"], ["x \\ge 3", "x < 3", "x > -3"]),
    ("inequalities", "2x - 4 \\le 0", ["x \\le 2", "4 - 2x \\ge 0"], ["x \\ge 2", "x < 2"]),
    # -- multiple choice ------------------------------------------------------------------------------
    ("choice", "B", ["B", "(B)", "B) 12", "\\text{(B)}", "B.", "\\textbf{B}", "option B"], ["A", "C", "(D) 12", "b"]),
    ("choice", "(D)", ["D", "(D)", "D: 7", "\\text{D}"], ["(B)", "A"]),
    # -- more LaTeX forms: mixed numbers, repeating decimals, |x|, inverse trig, logs --------
    ("latex", "3\\frac{1}{3}", ["\\frac{10}{3}", "3.3333333", "3 \\tfrac13"], ["1", "3.33", "\\frac{3}{3}"]),
    ("latex", "\\frac{1}{6}", ["0.1\\overline{6}", "0.16666667"], ["0.16", "0.\\overline{6}"]),
    ("latex", "3", ["\\lvert -3 \\rvert", "|-3|", "\\left| 3 \\right|"], ["|-4|", "-3"]),
    ("latex", "\\frac{\\pi}{4}", ["\\tan^{-1}(1)", "\\arctan 1", "\\arcsin\\frac{\\sqrt2}{2}"], ["\\tan(1)", "\\frac{\\pi}{2}"]),
    ("latex", "3", ["\\log_2 8", "\\log_{10} 1000", "\\log_{3}(27)"], ["\\log 8", "\\log_2 9"]),
    ("sets", "\\frac{-1+\\sqrt{5}}{2}, \\frac{-1-\\sqrt{5}}{2}", ["\\frac{-1 \\pm \\sqrt{5}}{2}", "x = \\frac{-1 \\pm \\sqrt5}{2}"],
     ["\\frac{1 \\pm \\sqrt{5}}{2}", "\\frac{-1+\\sqrt{5}}{2}"]),
    ("assignment", "2x+1", ["f(x) = 2x+1", "y = 1 + 2x", "g(x)=2x+1"], ["f(x) = 2x-1", "f(x) = x + 1"]),
    # -- word answers --------------------------------------------------------------------------------
    ("text", "\\text{Monday}", ["Monday", "\\text{monday}", "\\textbf{Monday}"], ["Tuesday", "\\text{Sunday}"]),
    ("text", "\\text{yes}", ["Yes", "yes", "\\text{Yes}"], ["no", "\\text{No}"]),
]

# whole responses: (category, response, gold, expected)
RESPONSES: list[tuple[str, str, str, bool]] = [
    # extraction priority and forms
    ("extraction", "First 2+2=4. Then we add 3. The final answer is 7.", "7", True),
    ("extraction", "We compute... The final answer is $\\frac{3}{5}$.", "0.6", True),
    ("extraction", "So the answer is 15 because 3*5 is 15.", "15", True),
    ("extraction", "Step 1: 4 apples. Step 2: 8 apples.\n#### 8", "8", True),
    ("extraction", "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips.\n#### 72", "72", True),
    ("extraction", "He pays 2*$10 = $20.\n#### 20", "#### 20", True),
    ("extraction", "She has 5 + 3 = 8 now, then gives away 2, so 6 are left", "6", True),
    ("extraction", "She has 5 + 3 = 8 now, then gives away 2, so 6 are left", "8", False),
    ("extraction", "The result is \\boxed{\\frac{\\sqrt{2}}{2}} as computed.", "\\frac{1}{\\sqrt{2}}", True),
    ("extraction", "Thus $\\boxed{ \\{1, \\{2\\}\\} }$ hmm no", "5", False),
    ("extraction", "\\boxed{\\frac{1}{\\frac{1}{2}}}", "2", True),
    ("extraction", "The answer: \\fbox{7}", "7", True),
    ("extraction", "Answer: 12", "12", True),
    ("extraction", "**Final Answer**\n\\[\n\\boxed{144}\n\\]", "144", True),
    ("extraction", "I think it is 3, or rather the final answer is 4.", "4", True),
    ("extraction", "The answer is $x = 9$.", "9", True),
    ("extraction", "Computing, we get 2, 4, 6 and finally the value 10", "10", True),
    ("extraction", "No idea.", "10", False),
    ("extraction", "", "10", False),
    ("extraction", "\\boxed{}", "10", False),
    ("extraction", "The final answer is $\\boxed{-\\frac{7}{2}}$", "-3.5", True),
    ("extraction", "\\boxed{\\boxed{5}}", "5", True),
    ("extraction", "**Final Answer**: 42", "42", True),
    ("extraction", "**Final Answer:** $\\frac{2}{3}$", "2/3", True),
    ("extraction", "The answer is 3.5.", "7/2", True),
    ("extraction", "Total cost:\n#### $72", "72", True),
    ("extraction", "so the answer is **18**.", "18", True),
    ("extraction", "so the answer is **18**.", "19", False),
    ("extraction", "<think>maybe \\boxed{3}? no...</think>The answer is \\boxed{4}.", "4", True),
    ("extraction", "<think>it is \\boxed{4}</think>The answer is \\boxed{3}.", "4", False),
    ("extraction", "<think>so \\boxed{4}</think>", "4", True),
    # hedging: several different final answers for one quantity are never rewarded
    ("hedging", "The answer is \\boxed{1}. Actually it might be \\boxed{2}.", "2", False),
    ("hedging", "\\boxed{1} \\boxed{2} \\boxed{3} \\boxed{4}", "3", False),
    ("hedging", "The answer is 3 or 4.", "3", False),
    ("hedging", "The answer is \\boxed{3 \\text{ or } 4}.", "4", False),
    ("hedging", "\\boxed{3, 4}", "3", False),
    ("hedging", "\\boxed{B \\text{ or } C}", "B", False),
    ("hedging", "\\boxed{A, B, C, D}", "C", False),
    ("hedging", "The final answer is 5. The final answer is 6.", "6", False),
    ("hedging", "\\boxed{\\pm 2}", "2", False),
    ("hedging", "\\boxed{x = 2 \\text{ or } x = -2}", "2", False),
    ("hedging", "#### 12\n#### 13", "13", False),
    # consistent repeats and boxes that together make up a set are one answer
    ("hedging", "So \\boxed{\\frac12}, i.e. \\boxed{0.5}.", "1/2", True),
    ("hedging", "\\boxed{7} ... double-check ... \\boxed{7}", "7", True),
    ("hedging", "The roots are \\boxed{-2} and \\boxed{1}.", "-2, 1", True),
    ("hedging", "The roots are \\boxed{-2} and \\boxed{1}.", "\\{1, -2\\}", True),
    ("hedging", "The roots are \\boxed{-2} and \\boxed{1} and \\boxed{5}.", "-2, 1", False),
    ("hedging", "\\boxed{x=3} and \\boxed{x = -3}", "\\pm 3", True),
    # reward hacking attempts
    ("hacking", "\\boxed{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}", "7", False),
    ("hacking", "\\boxed{\\text{any real number}}", "7", False),
    ("hacking", "\\boxed{x}", "7", False),
    ("hacking", "\\boxed{7 = 7}", "7", False),
    ("hacking", "\\boxed{3 = 7}", "7", False),
    ("hacking", "The answer is \\boxed{\\infty}", "7", False),
    ("hacking", "\\boxed{0 \\cdot x + 8}", "7", False),
    ("hacking", "\\boxed{nan}", "7", False),
    ("hacking", "\\boxed{7 \\pm 1}", "7", False),
    ("hacking", "\\boxed{6.9999}", "7", False),
    ("hacking", "\\boxed{[6, 8]}", "7", False),
    ("hacking", "\\boxed{6 < x < 8}", "7", False),
    ("hacking", "\\boxed{A B C D}", "B", False),
    ("hacking", "The answer is (A) or (B)", "B", False),
    ("hacking", "Let me list: " + " ".join(f"\\boxed{{{k}}}" for k in range(20)), "13", False),
    ("hacking", "\\boxed{10^{10^{10}}}", "10", False),
    ("hacking", "\\boxed{1000000!}", "120", False),
    ("hacking", "\\boxed{\\text{7 or 8}}", "7", False),
    ("hacking", "\\boxed{7\\text{ (or possibly 8)}}", "7", False),
    ("hacking", "\\boxed{\\{7\\} \\cup \\{8\\}}", "7", False),
    ("hacking", "I'm not sure: maybe 7, maybe 8", "7", False),
    ("hacking", "\\boxed{\\frac{7}{1} + 0i}", "7", True),
    ("hacking", "\\boxed{(1,2)}", "(1,2]", False),
]

# A second batch written after the verifier, then run once before any fix: 74 of 75 passed
# (the miss, "\\angle A = 60^\\circ", was then fixed). (answer, gold, expected), boxed.
MIXED: list[tuple[str, str, int]] = [
 ("\\frac{7}{2}", "3.5", 1), ("\\dfrac{14}{4}", "\\frac72", 1), ("3\\frac12", "\\frac{7}{2}", 1),
 ("\\$32,000", "32000", 1), ("32{,}000", "32000", 1), ("\\$32{,}000.00", "32000", 1),
 ("5\\text{ inches}", "5", 1), ("5 \\mbox{ inches}", "5", 1), ("\\frac{1}{4}\\pi", "\\frac{\\pi}{4}", 1),
 ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})", 1), ("(3, \\pi/2)", "\\left( 3, \\frac{\\pi}{2} \\right)", 1),
 ("\\text{odd}", "\\text{odd}", 1), ("odd", "\\text{odd}", 1), ("\\text{even}", "\\text{odd}", 0),
 ("x^2+7x+10", "(x+2)(x+5)", 1), ("x^2+7x+12", "(x+2)(x+5)", 0),
 ("(-\\infty,-2]\\cup[2,\\infty)", "(-\\infty, -2] \\cup [2, \\infty)", 1), ("(-\\infty,-2)\\cup(2,\\infty)", "(-\\infty, -2] \\cup [2, \\infty)", 0),
 ("3\\sqrt{3}", "\\sqrt{27}", 1), ("\\text{Devon}", "\\text{Devon}", 1), ("p-q", "-q+p", 1), ("p+q", "p-q", 0),
 ("\\tfrac{5}{2}", "2.5", 1), ("8\\%", "8", 1), ("20\\pi", "62.83185307", 1), ("11\\sqrt2", "\\sqrt{242}", 1),
 ("y^4-2y^3+7y^2+y-5", "y^4 - 2y^3 + 7y^2 + y - 5", 1), ("\\begin{pmatrix} -1 \\\\ 2 \\\\ 5 \\end{pmatrix}", "\\begin{pmatrix}-1\\\\2\\\\5\\end{pmatrix}", 1),
 ("\\begin{pmatrix} -1 \\\\ 2 \\\\ 5 \\end{pmatrix}", "\\begin{pmatrix}-1\\\\2\\\\6\\end{pmatrix}", 0),
 ("\\frac{\\sqrt{6}}{3}", "\\sqrt{\\frac{2}{3}}", 1), ("\\frac{2\\sqrt{3}}{3}", "\\frac{2}{\\sqrt{3}}", 1),
 ("-\\frac{1}{2}", "-0.5", 1), ("\\frac{1}{2}", "-0.5", 0), ("1/2", "\\frac{1}{-2}", 0),
 ("2^{-1}", "0.5", 1), ("4.0", "4", 1), ("04", "4", 1), ("\\sqrt{16}", "4", 1),
 ("\\frac{9}{25}", "0.36", 1), ("36\\%", "\\frac{9}{25}", 0), ("(1, -3)", "(1,-3)", 1), ("(-3, 1)", "(1,-3)", 0),
 ("\\{(1,2), (3,4)\\}", "\\{(3,4),(1,2)\\}", 1), ("(1,2), (3,4)", "(3,4),(1,2)", 1), ("(1,2),(3,5)", "(3,4),(1,2)", 0),
 ("k = 5", "5", 1), ("n=12", "12", 1), ("a=2, b=3", "(2,3)", 1), ("a=3, b=2", "(2,3)", 0),
 ("\\angle A = 60^\\circ", "60", 1), ("60^{\\circ}", "60^\\circ", 1), ("120^\\circ", "60^\\circ", 0),
 ("\\textbf{(E)}", "E", 1), ("\\text{(E) }17", "E", 1), ("\\mathrm{(A)}", "E", 0),
 ("1.5 \\text{ hours}", "\\frac{3}{2}", 1), ("90 \\text{ minutes}", "1.5", 0),
 ("10", "10.0", 1), ("9.99", "10", 0), ("\\infty", "\\infty", 1), ("\\text{undefined}", "\\text{undefined}", 1),
 ("x \\neq 1", "x \\ne 1", 1), ("x \\geq 2", "x \\ge 2", 1), ("[2,\\infty)", "x\\ge2", 1),
 ("\\frac{a}{2}", "a/2", 1), ("\\frac{a}{2}", "2/a", 0), ("e^{2x}", "(e^x)^2", 1), ("\\ln(e^3)", "3", 1),
 ("\\log_2 32", "5", 1), ("2^{10}-1", "1023", 1), ("1,023", "1023", 1), ("1\\,023", "1023", 1),
 ("0.\\overline{6}", "\\frac23", 1), ("\\dfrac{2}{3}", "0.667", 0), ("67\\%", "\\frac{2}{3}", 0),
]

# A third batch of whole responses, also run once before any fix: 44 of 45 passed (the miss,
# "I think (A), but it could be (C).", now gives no answer). (response, gold, expected).
MIXED_RESPONSES: list[tuple[str, str, int]] = [
 ("Let's compute. 3 * 4 = 12, plus 5 is 17. So the final answer is 17.", "17", 1),
 ("Final answer: \\(\\frac{5}{8}\\)", "0.625", 1),
 ("The answer is $\\dfrac{3}{4}$, which is 0.75.", "3/4", 1),
 ("We find x = 4.\n\nAnswer: x = 4", "4", 1),
 ("He has 12 marbles left.\n#### 12", "12", 1),
 ("He has 12 marbles left.\n#### 12 marbles", "12", 1),
 ("**Answer:** 250", "250", 1),
 ("Therefore the perimeter is $\\boxed{24\\text{ cm}}$.", "24", 1),
 ("The probability is $\\boxed{\\frac{1}{6}}$", "\\frac16", 1),
 ("The probability is $\\boxed{\\frac{1}{6}}$", "1/36", 0),
 ("I get \\boxed{16} or \\boxed{-16}", "16", 0),
 ("I get \\boxed{16} or \\boxed{-16}", "\\pm 16", 1),
 ("The solutions are $x=2$ and $x=-3$, so $\\boxed{2, -3}$.", "-3, 2", 1),
 ("The solutions are $\\boxed{x=2}$ and $\\boxed{x=-3}$.", "-3, 2", 1),
 ("The solutions are $\\boxed{x=2}$ and $\\boxed{x=-3}$.", "2", 0),
 ("Answer: (C)", "C", 1),
 ("The correct option is (C) 42.", "C", 1),
 ("The correct option is (C) 42.", "B", 0),
 ("I think (A), but it could be (C).", "C", 0),
 ("\\boxed{A} \\boxed{C}", "C", 0),
 ("\\boxed{\\text{C}}", "C", 1),
 ("After simplifying we have $\\boxed{2\\sqrt{2}}$", "\\sqrt{8}", 1),
 ("After simplifying we have $\\boxed{2\\sqrt{2}}$", "2.83", 0),
 ("So the answer is 2.83", "2.83", 1),
 ("The value is \\boxed{0.3333}", "\\frac13", 0),
 ("The value is \\boxed{0.333333333}", "\\frac13", 1),
 ("", "0", 0),
 ("\\boxed{0}", "0", 1),
 ("The answer is zero.", "0", 0),
 ("We conclude that the final answer is $\\boxed{(2,3)}$ .", "(2, 3)", 1),
 ("\\boxed{[2,3)}", "[2, 3)", 1),
 ("\\boxed{[2,3]}", "[2, 3)", 0),
 ("The maximum is \\boxed{\\dfrac{9}{4}} at $x = \\frac{3}{2}$.", "\\frac94", 1),
 ("Thus $a+b = \\boxed{7}$.", "7", 1),
 ("Thus $\\boxed{a+b = 7}$.", "7", 0),
 ("The answer is 5. Wait, let me double-check... The answer is 5.", "5", 1),
 ("The answer is 5. Wait, let me double-check... The answer is 6.", "6", 0),
 ("\\boxed{5}\n\nNote: earlier I wrote 4, but that was wrong.", "5", 1),
 ("\\boxed{\\text{No solution}}", "\\text{no solution}", 1),
 ("\\boxed{\\infty}", "\\text{no solution}", 0),
 ("#### 1,234,567", "1234567", 1),
 ("\\boxed{1.2 \\times 10^{3}}", "1200", 1),
 ("\\boxed{x \\in \\{1, 2\\}}", "1, 2", 1),
 ("\\boxed{2x+3y=6}", "y = -\\frac{2}{3}x + 2", 1),
 ("\\boxed{2x+3y=7}", "y = -\\frac{2}{3}x + 2", 0),
]

# A fourth batch (answer formats of common models), run once before any fix: 26 of 29 passed
# (the misses: the Minerva "Final Answer: The final answer is $18$." twice, "$\\$1{,}250$").
MIXED_FORMATS: list[tuple[str, str, int]] = [
 ("Final Answer: The final answer is $18$. I hope it is correct.", "18", 1),
 ("Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", "0.5", 1),
 ("Final Answer: The final answer is 18. I hope it is correct.", "19", 0),
 ("The answer is: 42", "42", 1),
 ("The answer is: $42$", "42", 1),
 ("So, the answer is **42**.", "42", 1),
 ("**Final answer**\n42", "42", 1),
 ("### Final Answer\n\n$$\\boxed{42}$$", "42", 1),
 ("\\boxed{\\$5.00}", "5", 1),
 ("\\boxed{5 \\text{ (since 2+3=5)}}", "5", 0),
 ("The answer is 7 apples.", "7", 1),
 ("Answer: B", "B", 1),
 ("Answer: B) 12", "B", 1),
 ("The answer is (B).", "B", 1),
 ("The answer is B.", "B", 1),
 ("The answer is B. C is wrong.", "B", 1),
 ("The answer is $x=\\frac{3}{2}$", "1.5", 1),
 ("Thus, the total is $\\$1{,}250$.", "1250", 1),
 ("= 3.75 hours", "3.75", 1),
 ("the answer is \\( \\sqrt{13} \\)", "\\sqrt{13}", 1),
 ("the answer is \\[ \\sqrt{13} \\]", "\\sqrt{13}", 1),
 ("The answer is 1/4 or 25%", "0.25", 0),
 ("The final answer is $\\boxed{2}$ and $\\boxed{3}$", "2, 3", 1),
 ("<think>Let me think... 5? Actually 6.</think>\n\nThe answer is 6.", "6", 1),
 ("The answer is -5.", "-5", 1),
 ("The answer is −5.", "-5", 1),
 ("The answer is 5.0.", "5", 1),
 ("The answer is .5", "1/2", 1),
 ("The answer is 1e3", "1000", 1),
]

WRAPPERS = [
    "The answer is \\boxed{{{}}}.",
    "Let me work through this carefully.\nTherefore the final answer is $\\boxed{{{}}}$",
    "So we obtain\n\\[ \\boxed{{{}}} \\]",
]


def build() -> list[dict]:
    cases: list[dict] = []
    for gi, (cat, gold, good, bad) in enumerate(GROUPS):
        for k, ans in enumerate(good + bad):
            wrapper = WRAPPERS[(gi + k) % len(WRAPPERS)]
            cases.append({"category": cat, "response": wrapper.format(ans), "gold": gold,
                          "expected": k < len(good)})
    for ans, gold, expected in MIXED:
        cases.append({"category": "mixed", "response": f"Thus the answer is $\\boxed{{{ans}}}$.",
                      "gold": gold, "expected": bool(expected)})
    for resp, gold, expected in MIXED_RESPONSES + MIXED_FORMATS:
        cases.append({"category": "mixed-responses", "response": resp, "gold": gold,
                      "expected": bool(expected)})
    for cat, resp, gold, expected in RESPONSES:
        cases.append({"category": cat, "response": resp, "gold": gold, "expected": expected})
    for i, c in enumerate(cases):
        c["id"] = f"{c['category']}-{i:03d}"
    return cases


if __name__ == "__main__":
    out = Path(__file__).with_name("math_cases.jsonl")
    rows = build()
    with out.open("w") as f:
        for row in rows:
            f.write(json.dumps({"id": row["id"], **{k: v for k, v in row.items() if k != "id"}}) + "\n")
    print(f"wrote {len(rows)} cases to {out}")
