"""The mutation operators: every small change to a module that a test should notice.

Unlike mutmut 3 (whose trampolines mutate function bodies only), this mutates module level too:
the rule tables (``RULES`` entries: a check made "always allow", an evolve made the identity, an
entry removed), frozensets, tuples and other constants, and properties. Operators:

- arithmetic and bitwise operators (``+``/``-``, ``*``/``//``, ``<<``/``>>``, ``&``/``|`` ...),
  also in augmented assignments;
- comparisons (``==``/``!=``, ``<``/``<=``, ``>``/``>=``, ``is``/``is not``, ``in``/``not in``);
- ``and``/``or``, dropping a ``not`` or a unary minus;
- ``True``/``False``, integers off by one, strings and bytes compared, combined or assigned at
  module level (``"x"`` -> ``"XXxXX"``);
- ``return <value>`` -> ``return None``, and ``return None`` -> a message (a check that refuses);
- swapping the branches of ``a if c else b`` (``None if ok else "why"``);
- removing one argument of a call to a module-level variadic combinator (``_all(...)``,
  ``_in(...)``), one keyword of a ``replace``/``_replace`` call (an evolve forgetting a field),
  one element of a set, tuple or list literal, one entry of a dict literal;
- deleting a statement that calls a function or assigns an attribute or item;
- table entries ``key: (check, evolve)`` in a module-level dict: check -> always allow,
  evolve -> identity.

Skipped: docstrings, annotations, decorators, f-string parts, imports, messages passed to calls,
and ``__all__`` (read only by ``import *``, which the project never uses, and by linters).
A line ending in ``# pragma: no mutate`` is left alone. Mutants are applied to the AST and
compiled; no file is ever written.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import CodeType

_BINOP_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitOr,
}
_CMP_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_SYMBOL = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}
REFUSAL = "mutant: refused"
_SIMPLE = (ast.Constant, ast.Name, ast.Attribute, ast.Starred)


@dataclass(frozen=True, slots=True)
class Mutation:
    """One mutation point of a file: where, which operator, what it changes."""

    index: int
    line: int
    end_line: int
    col: int
    operator: str
    description: str
    module_level: bool  # runs when the module is imported, not when a function is called
    statement_line: int = 0  # first line of the innermost statement holding it


def _src(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _always_allow() -> ast.expr:
    return ast.parse("lambda *_a, **_k: None", mode="eval").body


def _identity() -> ast.expr:
    return ast.parse("lambda _s, *_a, **_k: _s", mode="eval").body


# operator, description, replacement[, the node to name in the report (default: the mutated one)]
Alternative = (
    tuple[str, str, Callable[[], ast.AST]] | tuple[str, str, Callable[[], ast.AST], ast.AST]
)


class _Walker(ast.NodeTransformer):
    """Pre-order walk that numbers every alternative; with ``target`` set it applies that one
    (and stops descending there). Numbering depends only on the original tree, so enumerating and
    applying agree."""

    def __init__(self, source: str, target: int | None) -> None:
        self.target = target
        self.count = 0
        self.found: list[Mutation] = []
        self.applied: Mutation | None = None
        self._lines = source.splitlines()
        self._function_depth = 0
        self._returns_none: list[bool] = []  # per enclosing def: annotated `-> None`
        self._variadic: set[str] = set()
        self._string_ok: set[int] = set()  # ids of Constant nodes whose text may be mutated
        self._skip: set[int] = set()  # ids of nodes not to mutate (docstrings ...)
        self._table_entries: set[int] = set()  # ids of (check, evolve) pairs of rule tables
        self._statement_lines: list[int] = []  # first lines of the enclosing statements

    # -- bookkeeping ---------------------------------------------------------------------------

    def _pragma(self, node: ast.AST) -> bool:
        line = getattr(node, "lineno", None)
        return line is not None and self._lines[line - 1].rstrip().endswith("# pragma: no mutate")

    def _offer(self, node: ast.AST, alternatives: list[Alternative]) -> ast.AST | None:
        """Number the alternatives of ``node``; return the replacement if one is the target."""
        if self._pragma(node):
            return None
        for alternative in alternatives:
            operator, description, make = alternative[:3]
            at = alternative[3] if len(alternative) > 3 else node  # type: ignore[misc]
            m = Mutation(
                self.count,
                getattr(at, "lineno", 0),
                getattr(at, "end_lineno", None) or getattr(at, "lineno", 0),
                getattr(at, "col_offset", 0),
                operator,
                description,
                self._function_depth == 0,
                self._statement_lines[-1] if self._statement_lines else 0,
            )
            self.found.append(m)
            hit = self.count == self.target
            self.count += 1
            if hit:
                self.applied = m
                return make()
        return None

    def _visit(self, node: ast.AST, alternatives: list[Alternative]) -> ast.AST:
        replacement = self._offer(node, alternatives)
        if replacement is not None:
            return (
                ast.copy_location(replacement, node)
                if isinstance(node, ast.expr)
                else (replacement)
            )
        return self.generic_visit(node)

    # -- structure -----------------------------------------------------------------------------

    def visit_Module(self, node: ast.Module) -> ast.AST:
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef) and (stmt.args.vararg is not None):
                self._variadic.add(stmt.name)
        self._mark_docstring(node)
        return self.generic_visit(node)

    def _mark_docstring(self, node: ast.Module | ast.ClassDef | ast.FunctionDef) -> None:
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            self._skip.add(id(body[0]))

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        self._mark_docstring(node)  # type: ignore[arg-type]
        # decorators, annotations: not mutated; defaults run at definition time
        node.args.defaults = [self._module_expr(d) for d in node.args.defaults]
        node.args.kw_defaults = [
            self._module_expr(d) if d is not None else None for d in node.args.kw_defaults
        ]
        for d in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            if isinstance(d, ast.Constant):
                self._string_ok.add(id(d))
        self._function_depth += 1
        returns = node.returns
        self._returns_none.append(isinstance(returns, ast.Constant) and returns.value is None)
        try:
            node.body = self._statements(node.body)
        finally:
            self._function_depth -= 1
            self._returns_none.pop()
        return node

    def _module_expr(self, node: ast.expr) -> ast.expr:
        result = self.visit(node)
        assert isinstance(result, ast.expr)
        return result

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._function(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self._mark_docstring(node)
        node.body = self._statements(node.body)
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        self._function_depth += 1
        try:
            node.body = self._module_expr(node.body)
        finally:
            self._function_depth -= 1
        return node

    def _statements(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in body:
            self._statement_lines.append(stmt.lineno)
            try:
                result = self.visit(stmt)
            finally:
                self._statement_lines.pop()
            if result is None:
                continue
            if isinstance(result, list):
                out.extend(result)
            else:
                assert isinstance(result, ast.stmt)
                out.append(result)
        return out or [ast.Pass()]

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for field, old in ast.iter_fields(node):
            if isinstance(old, list) and old and isinstance(old[0], ast.stmt):
                setattr(node, field, self._statements(old))
            elif isinstance(old, list):
                new = []
                for item in old:
                    if isinstance(item, ast.AST):
                        item = self.visit(item)
                        if item is None:  # a statement or node removed
                            continue
                    new.append(item)  # a None kept as it was: a ``**`` key in a dict
                setattr(node, field, new)
            elif isinstance(old, ast.AST):
                setattr(node, field, self.visit(old))
        return node

    # -- not mutated ---------------------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> ast.AST:
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if id(node) in self._skip:
            return node
        if self._function_depth and isinstance(node.value, ast.Call):
            return self._visit(node, [("delete", f"delete `{_src(node)}`", ast.Pass)])
        return self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            if isinstance(node.value, ast.Constant) and self._function_depth == 0:
                self._string_ok.add(id(node.value))
            if isinstance(node.value, ast.Dict) and self._function_depth == 0:
                self._table(node.value)
            node.value = self._module_expr(node.value)
        return node

    def visit_If(self, node: ast.If) -> ast.AST:
        test = node.test
        if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
            return node
        return self.generic_visit(node)

    # -- statements ----------------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return node
        if self._function_depth == 0 and isinstance(node.value, ast.Constant):
            self._string_ok.add(id(node.value))
        if self._function_depth == 0 and isinstance(node.value, ast.Dict):
            self._table(node.value)
        if self._function_depth and all(
            isinstance(t, ast.Attribute | ast.Subscript) for t in node.targets
        ):
            return self._visit(node, [("delete", f"delete `{_src(node)}`", ast.Pass)])
        return self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        swap = _BINOP_SWAP.get(type(node.op))
        alternatives: list[Alternative] = []
        if swap is not None:
            new = copy.deepcopy(node)
            new.op = swap()
            alternatives.append(
                (
                    "operator",
                    f"{_SYMBOL[type(node.op)]}= -> {_SYMBOL[swap]}=",
                    lambda: new,
                )
            )
        return self._visit(node, alternatives)

    def visit_Return(self, node: ast.Return) -> ast.AST:
        value = node.value
        if value is None and self._returns_none and self._returns_none[-1]:
            return node  # an early exit of a procedure: its result is never used
        if value is None or (isinstance(value, ast.Constant) and value.value is None):
            alt: Alternative = (
                "return",
                "return None -> return a refusal",
                lambda: ast.Return(value=ast.Constant(REFUSAL)),
            )
        else:
            alt = (
                "return",
                f"return {_src(value)} -> return None",
                lambda: ast.Return(value=ast.Constant(None)),
            )
        if isinstance(value, ast.Tuple):  # keep the arity of `return a, b`: only mutate inside
            self._skip.add(id(value))
        return self._visit(node, [alt])

    # -- expressions ---------------------------------------------------------------------------

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        for side in (node.left, node.right):
            if isinstance(side, ast.Constant):
                self._string_ok.add(id(side))
        swap = _BINOP_SWAP.get(type(node.op))
        if swap is None:
            return self.generic_visit(node)

        def make() -> ast.AST:
            return ast.BinOp(left=node.left, op=swap(), right=node.right)

        return self._visit(
            node, [("operator", f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[swap]}", make)]
        )

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        if isinstance(node.op, ast.Not):
            return self._visit(
                node, [("not", f"drop `not` in `{_src(node)}`", lambda: node.operand)]
            )
        if isinstance(node.op, ast.USub) and not isinstance(node.operand, ast.Constant):
            return self._visit(node, [("operator", "drop unary -", lambda: node.operand)])
        return self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        name = "and -> or" if isinstance(node.op, ast.And) else "or -> and"
        return self._visit(
            node, [("boolean", name, lambda: ast.BoolOp(op=other(), values=node.values))]
        )

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        for side in (node.left, *node.comparators):
            if isinstance(side, ast.Constant):
                self._string_ok.add(id(side))
        alternatives: list[Alternative] = []
        for i, op in enumerate(node.ops):
            swap = _CMP_SWAP.get(type(op))
            if swap is None:
                continue

            def make(i: int = i, swap: type[ast.cmpop] = swap) -> ast.AST:
                ops = list(node.ops)
                ops[i] = swap()
                return ast.Compare(left=node.left, ops=ops, comparators=node.comparators)

            alternatives.append(("comparison", f"{_SYMBOL[type(op)]} -> {_SYMBOL[swap]}", make))
        return self._visit(node, alternatives)

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        def make() -> ast.AST:
            return ast.IfExp(test=node.test, body=node.orelse, orelse=node.body)

        return self._visit(node, [("branch", f"swap branches of `{_src(node)}`", make)])

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if id(node) in self._skip:
            return node
        v = node.value
        alternatives: list[Alternative] = []
        if isinstance(v, bool):
            alternatives.append(("constant", f"{v} -> {not v}", lambda: ast.Constant(not v)))
        elif isinstance(v, int):
            alternatives.append(("number", f"{v} -> {v + 1}", lambda: ast.Constant(v + 1)))
        elif isinstance(v, str | bytes) and id(node) in self._string_ok:
            new: str | bytes = "XX" + v + "XX" if isinstance(v, str) else b"XX" + v + b"XX"
            alternatives.append(("constant", f"{v!r} -> {new!r}", lambda: ast.Constant(new)))
        return self._visit(node, alternatives)

    def _elements(self, node: ast.Tuple | ast.List | ast.Set, kind: str) -> list[Alternative]:
        if id(node) in self._skip or not all(isinstance(e, _SIMPLE) for e in node.elts):
            return []
        alternatives: list[Alternative] = []
        for i, e in enumerate(node.elts):

            def make(i: int = i) -> ast.AST:
                elts = node.elts[:i] + node.elts[i + 1 :]
                if isinstance(node, ast.Set) and not elts:
                    return ast.Call(func=ast.Name("set", ast.Load()), args=[], keywords=[])
                return (
                    type(node)(elts=elts, ctx=ast.Load())
                    if not isinstance(node, ast.Set)
                    else (ast.Set(elts=elts))
                )

            alternatives.append(("element", f"remove `{_src(e)}` from the {kind}", make, e))
        return alternatives

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        if not isinstance(node.ctx, ast.Load):
            return node
        return self._visit(node, self._elements(node, "tuple"))

    def visit_List(self, node: ast.List) -> ast.AST:
        if not isinstance(node.ctx, ast.Load):
            return node
        return self._visit(node, self._elements(node, "list"))

    def visit_Set(self, node: ast.Set) -> ast.AST:
        return self._visit(node, self._elements(node, "set"))

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if isinstance(node.slice, ast.Tuple):  # x[a, b]: an index, not a collection
            self._skip.add(id(node.slice))
        return self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        alternatives: list[Alternative] = []
        for i, key in enumerate(node.keys):
            if not isinstance(key, ast.Constant):
                continue

            def remove(i: int = i) -> ast.AST:
                return ast.Dict(
                    keys=node.keys[:i] + node.keys[i + 1 :],
                    values=node.values[:i] + node.values[i + 1 :],
                )

            alternatives.append(("entry", f"remove entry {key.value!r}", remove, key))
            entry = node.values[i]
            if id(entry) in self._table_entries:
                assert isinstance(entry, ast.Tuple)

                def allow(i: int = i) -> ast.AST:
                    new = copy.deepcopy(node)
                    value = new.values[i]
                    assert isinstance(value, ast.Tuple)
                    value.elts[0] = _always_allow()
                    return new

                def identity(i: int = i) -> ast.AST:
                    new = copy.deepcopy(node)
                    value = new.values[i]
                    assert isinstance(value, ast.Tuple)
                    value.elts[1] = _identity()
                    return new

                elts = entry.elts
                alternatives.append(
                    ("table", f"{key.value}: check -> always allow", allow, elts[0])
                )
                alternatives.append(
                    ("table", f"{key.value}: evolve -> identity", identity, elts[1])
                )
                self._skip.add(id(entry))  # its (check, evolve) pair is not a collection
        return self._visit(node, alternatives)

    def _table(self, node: ast.Dict) -> None:
        """Mark ``key: (check, evolve)`` entries of a module-level dict."""
        for key, value in zip(node.keys, node.values, strict=True):
            if (
                isinstance(key, ast.Constant)
                and isinstance(value, ast.Tuple)
                and len(value.elts) == 2
                and all(isinstance(e, ast.Name | ast.Lambda | ast.Call) for e in value.elts)
            ):
                self._table_entries.add(id(value))

    def visit_Call(self, node: ast.Call) -> ast.AST:
        alternatives: list[Alternative] = []
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else (func.attr if isinstance(func, ast.Attribute) else None)
        )
        if isinstance(func, ast.Name) and name in self._variadic and len(node.args) >= 2:
            for i, arg in enumerate(node.args):

                def drop(i: int = i) -> ast.AST:
                    return ast.Call(
                        func=func, args=node.args[:i] + node.args[i + 1 :], keywords=node.keywords
                    )

                alternatives.append(
                    ("argument", f"remove `{_src(arg)}` from {name}(...)", drop, arg)
                )
        if name in ("replace", "_replace"):
            for i, kw in enumerate(node.keywords):
                if kw.arg is None:
                    continue

                def drop_kw(i: int = i) -> ast.AST:
                    return ast.Call(
                        func=func,
                        args=node.args,
                        keywords=node.keywords[:i] + node.keywords[i + 1 :],
                    )

                alternatives.append(("keyword", f"{name}(...) forgets {kw.arg}=", drop_kw, kw))
        return self._visit(node, alternatives)


def _walk(source: str, target: int | None) -> tuple[ast.Module, _Walker]:
    tree = ast.parse(source)
    walker = _Walker(source, target)
    walker.visit(tree)
    ast.fix_missing_locations(tree)
    return tree, walker


def mutations(source: str) -> list[Mutation]:
    """Every mutation point of a module's source, numbered."""
    return _walk(source, None)[1].found


def mutant_code(source: str, path: Path, index: int) -> tuple[Mutation, CodeType]:
    """The code object of the module with mutation ``index`` applied."""
    tree, walker = _walk(source, index)
    if walker.applied is None:
        raise IndexError(index)
    return walker.applied, compile(tree, str(path), "exec")
