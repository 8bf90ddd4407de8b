"""Outward standard feeds: FIWARE NGSI-LD parking entities, Curb Data Specification events and
status, and GBFS v3.0 for kick-scooters (docs/api.md, "Standard feeds").

Builders here turn the read model and chain views into the standards' documents; the routers in
api/routers/feeds_*.py serve them. Nothing personal is published (DESIGN §6): no lessee or rider
addresses, no plates; ids that could link a rider's trips rotate (GBFS vehicle_id).
"""
