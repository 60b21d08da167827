"""One router per resource, gathered here."""

from fastapi import APIRouter

from app.routers import articles, docs, meta, records, search

ROUTERS: list[APIRouter] = [*records.routers(), articles.router, search.router, meta.router, docs.router]
STATIC = docs.static_apps
