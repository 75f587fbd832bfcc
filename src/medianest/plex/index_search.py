"""Title search over the library index, on SQLite FTS5 or PostgreSQL full-text search.

Both engines read the same `search_text`: the title's words, lower-case, accents removed (`fold`).
A query is folded the same way and every word of it must begin a word of the title, in any
order: "matrix the" and "MATR" find "The Matrix", "amelie" finds "Amélie", so results come as
the user types. Ranking is the same on both engines: the title itself, then titles that begin
with the query, then shorter titles first (a type-ahead wants "Alien" above "Alien: Covenant").
`closeness` ranks what Plex's own search finds the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import Any

from sqlalchemy import (
    ColumnExpressionArgument,
    Select,
    case,
    column,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.sql.elements import ColumnElement

from medianest.plex.models import FTS_TABLE, PlexItem

_WORD = re.compile(r"[^\W_]+")
_ARTICLE = re.compile(r"^(?:the|a|an) (?=\S)")
# Each engine is asked for at most this many words: a pasted paragraph stays a cheap query.
MAX_QUERY_WORDS = 8
SUMMARY_LENGTH = 300


def words(text: str) -> list[str]:
    """`text`'s words, lower-case and without accents ("Amélie's" -> ["amelie", "s"])."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(bare.casefold())


def fold(title: str) -> str:
    return " ".join(words(title))


def sort_title(folded: str) -> str:
    """How a `fold`ed title is ordered: without a leading English article ("the matrix" -> M)."""
    return _ARTICLE.sub("", folded, count=1)


def closeness(query: str, title: str) -> tuple[int, int]:
    """Where `title` stands among the answers to `query`, lowest first, as the index ranks
    them: the title itself, titles beginning with the query, titles with a word beginning with
    each word of it, then the rest (Plex finds titles by other words, and spelled nearly
    right); shorter titles first in each."""
    wanted, folded = fold(query), fold(title)
    title_words = folded.split()
    if folded == wanted:
        rank = 0
    elif folded.startswith(wanted):
        rank = 1
    elif all(any(w.startswith(term) for w in title_words) for term in wanted.split()):
        rank = 2
    else:
        rank = 3
    return rank, len(folded)


def short_summary(summary: str) -> str:
    if len(summary) <= SUMMARY_LENGTH:
        return summary
    cut = summary[: SUMMARY_LENGTH - 1].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return f"{cut}…"


def search_statement(
    dialect: str, query: str, *, limit: int, library_keys: Collection[str] | None
) -> Select[PlexItem] | None:
    """The query finding `query`'s titles, best first; None when it holds no word to look for."""
    terms = words(query)[:MAX_QUERY_WORDS]
    if not terms:
        return None
    statement = select(PlexItem)
    if dialect == "sqlite":
        fts = table(FTS_TABLE, column("rowid"))
        statement = statement.join(fts, fts.c.rowid == PlexItem.id).where(
            literal_column(FTS_TABLE).op("MATCH")(_fts5_query(terms))
        )
    else:
        statement = statement.where(_tsvector().op("@@")(_tsquery(terms)))
    if library_keys is not None:
        statement = statement.where(PlexItem.library_key.in_(sorted(library_keys)))
    return statement.order_by(*_ranking(" ".join(terms))).limit(limit)


def _fts5_query(terms: list[str]) -> str:
    # Each word quoted (nothing in it is read as FTS5 syntax) and a prefix; all must match.
    return " ".join(f'"{term}"*' for term in terms)


def _regconfig() -> ColumnElement[str]:
    # A literal, never a bound parameter: the expression must be the GIN index's own.
    return literal_column("'simple'::regconfig")


def _tsvector() -> ColumnElement[str]:
    return func.to_tsvector(_regconfig(), PlexItem.search_text)


def _tsquery(terms: list[str]) -> ColumnElement[str]:
    return func.to_tsquery(_regconfig(), " & ".join(f"'{term}':*" for term in terms))


def _ranking(folded: str) -> list[ColumnExpressionArgument[Any]]:
    closeness = case(
        (PlexItem.search_text == folded, 0),
        (PlexItem.search_text.startswith(folded, autoescape=True), 1),
        else_=2,
    )
    return [closeness, func.length(PlexItem.search_text), PlexItem.sort_title, PlexItem.id]
