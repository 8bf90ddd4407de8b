"""The CityPass API service: the indexer read model now; the FastAPI routers, explorer and KPIs later."""
