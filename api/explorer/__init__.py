"""The auditors' explorer and the impact dashboard: server-rendered pages over the read model
and the ledger node (routes.py, dashboard_routes.py), with every log of our contracts told in
domain language (describe.py) and the KPIs computed in kpis.py."""
