"""How the project reads Markdown: one markdown-it parser, and the MyST constructs we give meaning to.

Course pages, notes and tours are MyST Markdown. Three constructs matter to the tooling, and all
three are found here and only here:

- the role ``{anchor}`PATH::QUALNAME` `` (or ``{anchor}`shown text <PATH::QUALNAME>` ``);
- directive fences ```` ```{name} ARGUMENT ```` — `{upstream}`, `{step}`, `{line}` — with
  `:key: value` option lines at the top of their body;
- raw HTML, which contributed text may not contain.

CommonMark already tokenises a role as a text token ending in `{anchor}` followed by a code span,
and a literal role written inside a longer code span stays a code span: exactly MyST's reading.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

ROLE_TARGET = re.compile(r"^(?:(?P<title>.*?)\s*<(?P<target>[^<>]+)>|(?P<bare>[^<>]+))$", re.S)


@cache
def parser() -> MarkdownIt:
    return MarkdownIt("commonmark")


@dataclass(frozen=True, slots=True)
class Role:
    line: int  # 1-based line in the Markdown text
    name: str
    target: str
    title: str | None


@dataclass(frozen=True, slots=True)
class Directive:
    line: int  # 1-based line of the opening fence
    name: str
    argument: str
    options: dict[str, str] = field(default_factory=dict)
    body: str = ""
    body_line: int = 0  # 1-based line where the body (after options) starts


@dataclass(frozen=True, slots=True)
class CodeBlock:
    line: int
    info: str
    content: str


@dataclass(slots=True)
class Scan:
    roles: list[Role] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)
    code_blocks: list[CodeBlock] = field(default_factory=list)
    html: list[tuple[int, str]] = field(default_factory=list)  # (line, snippet)


def scan(text: str, first_line: int = 1) -> Scan:
    """Every role, directive fence, plain code block and raw HTML in `text`.

    `first_line` is the file line of `text`'s first line, so callers can scan a body that follows
    front matter and still report file lines.
    """
    result = Scan()
    for token in parser().parse(text):
        line = (token.map[0] if token.map else 0) + first_line
        if token.type == "fence":
            directive = _directive(token, line)
            if directive is not None:
                result.directives.append(directive)
            else:
                result.code_blocks.append(CodeBlock(line, token.info.strip(), token.content))
        elif token.type == "code_block":
            result.code_blocks.append(CodeBlock(line, "", token.content))
        elif token.type == "html_block":
            result.html.append((line, token.content.strip()[:60]))
        elif token.type == "inline":
            _inline(token.children or [], line, result)
    return result


def _inline(children: list[Token], line: int, result: Scan) -> None:
    for previous, child in zip([None, *children], children):
        if child.type in {"softbreak", "hardbreak"}:
            line += 1
        elif child.type == "html_inline":
            result.html.append((line, child.content[:60]))
        elif child.type == "code_inline" and previous is not None and previous.type == "text":
            name = re.search(r"\{([a-z][\w-]*)\}$", previous.content)
            if name:
                match = ROLE_TARGET.match(child.content.strip())
                target = (match.group("target") or match.group("bare") or "").strip() if match else ""
                title = match.group("title") if match and match.group("target") else None
                result.roles.append(Role(line, name.group(1), target, title))
        if child.type == "text":
            line += child.content.count("\n")


def _directive(token: Token, line: int) -> Directive | None:
    match = re.match(r"^\{([a-z][\w-]*)\}\s*(.*)$", token.info.strip())
    if not match:
        return None
    options: dict[str, str] = {}
    body_lines = token.content.splitlines()
    consumed = 0
    for raw in body_lines:
        option = re.match(r"^:([\w-]+):\s*(.*)$", raw)
        if not option:
            break
        options[option.group(1)] = option.group(2).strip()
        consumed += 1
    body = "\n".join(body_lines[consumed:]).strip("\n")
    return Directive(line, match.group(1), match.group(2).strip(), options, body, line + 1 + consumed)


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(front matter YAML or None, body, file line where the body starts)."""
    if not text.startswith("---\n"):
        return None, text, 1
    end = text.find("\n---\n", 4)
    if end == -1:
        if text.endswith("\n---"):
            end = len(text) - 4
        else:
            return None, text, 1
    yaml_text = text[4:end]
    body = text[end + 5:]
    return yaml_text, body, yaml_text.count("\n") + 4
