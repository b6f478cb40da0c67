"""The foundation every other package stands on: what is analysed and what
comes out, with no analysis in it.

Holds: reading sources and notebooks (`sources`, `notebooks`), finding
files (`discovery`), configuration (`config`), the rule catalogue
(`catalog`), severities and findings (`severity`, `findings`), `noqa`
comments (`suppressions`), atomic file writes (`fsutil`), the fast AST
walk tables (`astwalk`) and the version.

May import: the standard library and third-party packages only.
Must not import: any other mllint package (every one of them imports this).
"""
