"""The Sangsalmi pilot's measured baseline (DESIGN §1), shared by the demo that seeds the
village and the KPIs that compare against it."""

# DESIGN §1: demand of about 389 vehicles, about 144 spaces before sharing (37% supply ratio).
VILLAGE_VEHICLES = 389
SPACES_BEFORE_SHARING = 144
PILOT_SHARED_SPACES = 280
