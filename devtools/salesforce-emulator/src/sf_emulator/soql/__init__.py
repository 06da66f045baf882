"""SOQL: a lark grammar, a parser to a small AST, binding against an org's catalog, and
an evaluator. The engine runs a query against the store and pages the result."""
