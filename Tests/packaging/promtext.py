"""A strict line-by-line check of the Prometheus text exposition format (0.0.4), as node_exporter reads it."""
import re

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:\\\\|\\"|\\n|[^"\\\n])*"'
VALUE = r"(?:[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?Inf|NaN)"
SAMPLE = re.compile(rf"^({NAME})(?:\{{{LABEL}(?:,{LABEL})*\}})? {VALUE}(?: -?[0-9]+)?$")
HELP = re.compile(rf"^# HELP ({NAME}) (?:[^\\\n]|\\\\|\\n)*$")
TYPE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")


def parse(text):
    """Returns {(name, labels-text): float}; raises AssertionError naming the first bad line."""
    assert text.endswith("\n"), "the file must end with a line feed"
    typed, helped, samples = set(), set(), {}
    for number, line in enumerate(text[:-1].split("\n"), 1):
        if line.startswith("# HELP "):
            match = HELP.match(line)
            assert match, f"line {number}: bad HELP line: {line!r}"
            assert match.group(1) not in helped, f"line {number}: HELP given twice"
            helped.add(match.group(1))
        elif line.startswith("# TYPE "):
            match = TYPE.match(line)
            assert match, f"line {number}: bad TYPE line: {line!r}"
            assert match.group(1) not in typed, f"line {number}: TYPE given twice"
            typed.add(match.group(1))
        elif line.startswith("#"):
            continue
        else:
            match = SAMPLE.match(line)
            assert match, f"line {number}: not a sample line: {line!r}"
            assert match.group(1) in typed, f"line {number}: sample before its TYPE line"
            key, value = line.rsplit(" ", 1)
            assert key not in samples, f"line {number}: sample given twice"
            samples[key] = float(value)
    return samples
