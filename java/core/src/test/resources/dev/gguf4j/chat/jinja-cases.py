#!/usr/bin/env python3
"""Writes jinja-cases.json: small templates rendered by Jinja2 configured exactly as transformers configures it
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, transformers' tojson/raise_exception).
Run with the Jinja2 the goldens came from (3.1.x): python3 jinja-cases.py > jinja-cases.json"""
import json
import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

def env():
    def raise_exception(m): raise jinja2.exceptions.TemplateError(m)
    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
    e = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    e.filters["tojson"] = tojson
    e.globals["raise_exception"] = raise_exception
    return e

V = {"messages": [{"role": "system", "content": "  Be brief.  "}, {"role": "user", "content": "Hi \"there\" 'x' é\n"},
                  {"role": "assistant", "content": None, "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": 1, "b": [1.5, 2e-7, 1e16, None, True]}}}]}],
     "tools": None, "n": 3, "f": 2.5, "s": "a,b,,c", "d": {"z": 1, "a": [1, 2], "k": {"x": "y"}}, "e": [], "t": True}

CASES = [
    "{{ messages[0].content | trim }}|{{ messages[0]['content'].strip() }}|{{ messages[0].content.lstrip() }}|",
    "{{ s.split(',') }} {{ s.split(',', 1) }} {{ '  a  b '.split() }} {{ s.startswith('a,') }} {{ s.endswith(('x','c')) }}",
    "{{ d | tojson }}\n{{ d | tojson(indent=2) }}\n{{ messages[2] | tojson(indent=4) }}\n{{ messages[1].content | tojson }}",
    "{{ d.items() | list }} {% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {{ d | items | list }}",
    "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.length }}/{{ loop.first }}/{{ loop.last }}/{{ loop.revindex }} {% endfor %}",
    "{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{{ loop.previtem is defined }}{{ loop.nextitem is defined }} {% endfor %}",
    "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 5 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% for x in e %}x{% else %}empty{% endfor %}",
    "{% set ns = namespace(found=false, n=0) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.found }} {{ ns.n }}",
    "{% set x = 1 %}{% for i in [1,2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}",
    "{{ n / 2 }} {{ n // 2 }} {{ n % 2 }} {{ n ** 2 }} {{ -n }} {{ f * 2 }} {{ 1e20 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1/3 }} {{ 10 / 5 }}",
    "{{ [1, 'a', none, true, 2.0, ('t', 1), {'k': 'v'}] }} {{ none }} {{ true }} {{ \"it's\" }} {{ ['it\\'s', \"q\\\"\"] }}",
    "{{ messages[1:] | length }} {{ messages[-1].role }} {{ s[::-1] }} {{ s[1:4] }} {{ [1,2,3,4][::2] }}",
    "{{ 'a' ~ 1 ~ none ~ undefined_var }} {{ 'x' * 3 }} {{ [1] + [2] }} {{ 'ab' in 'cabd' }} {{ 'role' in messages[0] }} {{ 3 not in [1,2] }}",
    "{{ undefined_var is defined }} {{ messages[0].nope is defined }} {{ tools is none }} {{ tools is not none }} {{ nothing is none }} {{ n is number }} {{ n is integer }} {{ f is float }} {{ s is string }} {{ d is mapping }} {{ e is iterable }} {{ t is boolean }} {{ n is odd }} {{ 4 is divisibleby 2 }} {{ 'a' is equalto 'a' }}",
    "{{ messages | map(attribute='role') | join(', ') }} {{ messages | selectattr('role', 'equalto', 'user') | list | length }} {{ messages | rejectattr('content') | map(attribute='role') | list }}",
    "{{ ['b', 'A', 'a', 'B'] | unique | list }} {{ [3, 1, 2] | sort }} {{ [1, 2] | reverse | list }} {{ [1,2,3] | first }} {{ [1,2,3] | last }} {{ [1, 2] | sum }}",
    "{{ nope | default('dflt') }} {{ '' | default('dflt', true) }} {{ 'Hello World' | lower }} {{ 'hello world' | upper }} {{ 'hello world' | title }} {{ 'hELLO' | capitalize }} {{ 'a-b-c' | replace('-', '+') }} {{ 42 | string }}",
    "  {% if t %}\n    yes\n  {% endif %}\n  {%- if t %}\n    strip\n  {%+ if t %}plus{% endif %}\n{% endif %}\n{# comment #}\nafter {{ 'v' }}   \n   {{- 'tight' -}}   \n   end\n",
    "{%- macro render(m, prefix='> ') -%}\n{{ prefix }}{{ m.role | upper }}: {{ m.content }}\n{%- endmacro -%}\n{% for m in messages[:2] %}{{ render(m) }}|{{ render(m, prefix='* ') }}\n{% endfor %}",
    "{% set block %}\n  inner {{ n }}\n{% endset %}[{{ block }}]{% filter upper %}shout {{ s }}{% endfilter %}",
    "{{ 'yes' if t else 'no' }} {{ 'yes' if not t else 'no' }} {{ ('a' if false) ~ '|' }} {{ t and 'x' or 'y' }} {{ none or 'z' }}",
    "{{ d.get('z') }} {{ d.get('missing') }} {{ d.get('missing', 7) }} {{ d.keys() | list }} {{ d.values() | list | length }} {{ d.k.x }} {{ d['k']['x'] }}",
    "{{ '%s and %s' % ('a', 'b') }} {{ '%d%%' % 5 }} {{ 'x' | indent(2) }} {{ 'a\nb' | indent(2, true) }}",
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}",
    "{% for m in tools %}{{ m }}{% endfor %}",
    "{{ 'a' + n }}",
    "{{ undefined_var + 'a' }}",
    "{{ messages | map(attribute='role') | tojson }}",
    "{{ messages[0].content.nope.deeper }}",
    "{{ n < 'a' }}",
    "{{ tools.a.b }}",
    "{{ e[7].x }}",
    "{{ 'tab\\there\x01\u2028' | tojson }} {{ [1, 2] | tojson(indent='--') }} {% for i in [1, 2, 3] %}{{ loop.cycle('o', 'e') }}{% endfor %}",
    "{{ nope }}|{{ nope | length }}|{{ nope | trim }}|{% for x in nope %}x{% endfor %}|{{ nope | tojson }}",
    "{% if n == 3 %}three{% elif n == 4 %}four{% else %}other{% endif %} {{ 1 < n < 5 }} {{ n == 3.0 }} {{ t == 1 }}",
    "{{ \"multi\" 'part' }} {{ '\\u00e9\\x41\\t|' }} {{ {'a': 1, 'b': {'c': [1, 2]}} | tojson(separators=(',', ':')) }} {{ d | tojson(sort_keys=true) }}",
    "{% if x %}\n{% for m in messages %}\n{{ m.role }}\n{% endfor %}\n{% endif %}\n{% for m in messages %}\n  {{ m.role }}\n{% endfor %}\n",
]

ERRORS_SYNTAX = ["{% if x %}no end", "{{ a b }}", "{% for %}{% endfor %}", "line1\n{% endif %}", "{{ 'unterminated }}"]

def main():
    e = env()
    out = []
    for t in CASES:
        case = {"template": t}
        try:
            case["expected"] = e.from_string(t).render(**V)
        except Exception as ex:
            case["error"] = type(ex).__name__ + ": " + str(ex)
        out.append(case)
    for t in ERRORS_SYNTAX:
        try:
            e.from_string(t)
            raise SystemExit("expected a syntax error: " + t)
        except jinja2.exceptions.TemplateSyntaxError as ex:
            out.append({"template": t, "syntax_error_line": ex.lineno})
    print(json.dumps({"jinja2": jinja2.__version__, "variables": V, "cases": out}, ensure_ascii=False, indent=1))

main()
